"""Make sure the data the test suite needs is on disk before any test runs (`make test` calls this first).

The suite needs MNIST (the MNIST and PolyMNIST notebooks, the tutorials and the reproductions' smoke runs) under the data root:
`$MULTIVAE_NB_DATA`, else `~/.cache/multivae_nb`. Present and checksummed: nothing to do. Missing: it is downloaded into `<root>/mnist/` and
verified (MD5 of each decompressed file). No network: one line saying what to do, exit status 2, before any test has run.

    python tests/ensure_data.py [--root DIR]
"""
import argparse, sys
from multivae_nb.core import ConfigError, data_root
from multivae_nb.datasets.mnist import MNIST_FILES, download_mnist, find_mnist_file, load_mnist


def ensure_mnist(root=None) -> str:
    "'present' or 'downloaded'; raises ConfigError (one line) when MNIST is missing and cannot be downloaded, or is corrupt."
    missing = [n for n in MNIST_FILES if find_mnist_file(n, root) is None]
    if missing:
        try: download_mnist(root)
        except ConfigError:
            raise ConfigError(f"MNIST is not under {data_root(root)}/mnist and could not be downloaded (no network?): copy the four MNIST .gz files "
                              f"there, or set MULTIVAE_NB_DATA to a folder whose mnist/ subfolder holds them, then rerun `make test`.") from None
    for split in ('train', 'test'): load_mnist(split, root)   # checksums
    return 'downloaded' if missing else 'present'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=None, help='data root (default: $MULTIVAE_NB_DATA, else ~/.cache/multivae_nb)')
    a = p.parse_args(argv)
    try: state = ensure_mnist(a.root)
    except ConfigError as e:
        print(f"ensure_data: {e}", file=sys.stderr); return 2
    print(f"ensure_data: MNIST {state} under {data_root(a.root)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
