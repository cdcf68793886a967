"""pytest configuration: executed notebooks run in their quick configuration; cells flagged `#| slow` and tests marked
`slow` (over a minute, e.g. the full documentation build) are skipped unless --run-slow."""
import os
import pytest

os.environ.setdefault('MULTIVAE_NB_QUICK', '1')      # reproduction notebooks: data subset, few epochs (read by the kernel)
os.environ.setdefault('OMP_NUM_THREADS', '1')
if not os.environ.get('MULTIVAE_NB_DATA'):                # the shared data folder of the development machines, if present
    for _d in (os.path.join(os.path.dirname(__file__), '..', 'shared', 'data'), '/work/shared/data'):
        if os.path.isdir(os.path.join(_d, 'mnist')):
            os.environ['MULTIVAE_NB_DATA'] = os.path.abspath(_d); break


def pytest_addoption(parser):
    parser.addoption('--run-slow', action='store_true', default=False, help='also run notebook cells flagged #| slow and tests marked slow')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: takes over a minute; skipped unless --run-slow')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--run-slow'): return
    skip = pytest.mark.skip(reason='#| slow cell (use --run-slow)')
    skip_test = pytest.mark.skip(reason='slow test (use --run-slow)')
    for item in items:
        cell = getattr(item, 'cell', None)
        if cell is not None and '#| slow' in cell.get('source', ''):
            item.add_marker(skip)
        elif item.get_closest_marker('slow') is not None:
            item.add_marker(skip_test)
