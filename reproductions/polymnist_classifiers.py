"""Train the PolyMNIST evaluation classifiers (one per modality, the published architecture) and save them with checksums and metadata.

    OMP_NUM_THREADS=1 python reproductions/polymnist_classifiers.py            # builds PolyMNIST from MNIST first if it is missing
    python reproductions/polymnist_classifiers.py --check                      # verify the committed classifiers against the data (no training)

The classifiers are written to reproductions/assets/polymnist_classifiers/m<i>/ (classifier.json with the SHA-256 of the weights, the test accuracy
and the fingerprint of the PolyMNIST test data they belong to; classifier.safetensors), plus summary.json. The reproductions load them with
`load_classifiers(folder, expect={m: {'dataset': dataset_fingerprint(test, m)}}, min_accuracy=0.9)`, which refuses classifiers of another build of
PolyMNIST or untrained ones. The PolyMNIST build is deterministic (seed 0; checked: a rebuild into another folder has the same fingerprints);
the photos come from scikit-image (0.26 here), whose sample images a different version could change — the fingerprints would then refuse the
classifiers, and this script rebuilds them.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, sys
from pathlib import Path
import torch
import multivae_nb
from multivae_nb.metrics import PolyMNISTClassifier, train_classifier, classifier_accuracy, save_classifier, dataset_fingerprint
sys.path.insert(0, str(Path(__file__).resolve().parent))
from polymnist_tools import CLASSIFIERS, CACHE, load_data, load_polymnist_classifiers

OUT = CLASSIFIERS


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=None, help='data root (default: $MULTIVAE_NB_DATA, else ~/.cache/multivae_nb)')
    p.add_argument('--cache-dir', default=str(CACHE), help='where PolyMNIST is built if no files are found (default $MULTIVAE_NB_POLYMNIST or ~/.cache/multivae_nb/polymnist)')
    p.add_argument('--out', default=str(OUT))
    p.add_argument('--epochs', type=int, default=15)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--check', action='store_true', help='only load and score the saved classifiers')
    a = p.parse_args(argv)
    train, test = load_data(a.root, a.cache_dir)
    out = Path(a.out)
    if a.check:
        nets = load_polymnist_classifiers(test, out)
        accs = {m: round(classifier_accuracy(net, test, m), 4) for m, net in nets.items()}
        print(json.dumps(accs)); return 0
    summary = {'architecture': 'PolyMNISTClassifier (MoPoE ConvNetworkImgClfCMNIST layout)', 'epochs': a.epochs, 'batch_size': a.batch_size,
               'lr': a.lr, 'optimizer': 'Adam', 'seed': a.seed, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
               'library_version': multivae_nb.__version__, 'date': datetime.date.today().isoformat(),
               'machine': f"{platform.machine()}, {os.cpu_count()} cores, CPU", 'polymnist_folder': str(test.folder), 'modalities': {}}
    for i, m in enumerate(test.modalities):
        torch.manual_seed(a.seed + i)
        net = PolyMNISTClassifier()
        h = train_classifier(net, train, m, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed + i, eval_dataset=test, verbose=True)
        acc = classifier_accuracy(net, test, m)
        meta = {'dataset': dataset_fingerprint(test, m), 'train_dataset': dataset_fingerprint(train, m), 'test_accuracy': acc,
                'seed': a.seed + i, 'epochs': a.epochs}
        save_classifier(net, out / m, meta)
        summary['modalities'][m] = {'test_accuracy': round(acc, 4), 'eval_accuracy_per_epoch': [round(x, 4) for x in h['eval_accuracy']],
                                    'train_time_s': round(h['time_s'], 1), 'dataset': meta['dataset']}
        print(f"{m}: test accuracy {acc:.4f} ({h['time_s']:.0f} s)", flush=True)
        (out / 'summary.json').write_text(json.dumps(summary, indent=1))
    load_polymnist_classifiers(test, out)   # what the reproductions will do: must pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
