"""Offline data sets for relative-representation experiments, as scikit-learn loaders.

Every loader reads data that a package installs (scikit-learn itself, Debian
packages, or a pip package); nothing is downloaded at run time. When the package is
missing, the loader raises :class:`DataNotInstalledError`, whose message (and
``install`` attribute) gives the command that installs it. Subsampling options with
``random_state`` scale experiments down; every loader is deterministic.

========================== ============================================== ====================
loader                     contents                                        install
========================== ============================================== ====================
load_digits                1,797 8 x 8 digits, 10 classes                  scikit-learn
load_fashion_mnist         70,000 28 x 28 clothing images, 10 classes      Debian dataset-fashion-mnist
load_fortunes              ~15,000 English quotations in 43 topics         Debian fortunes
load_chatterbot_parallel   dialogue lines aligned across languages         pip chatterbot-corpus==1.3.3 pyyaml
load_word_corpus           tokenised Bible verses or fortunes              Debian sword-text-kjv diatheke
========================== ============================================== ====================
"""

from ._base import DataNotInstalledError
from ._chatterbot import load_chatterbot_parallel
from ._digits import load_digits
from ._fashion_mnist import load_fashion_mnist
from ._fortunes import load_fortunes
from ._word_corpus import load_word_corpus

__all__ = [
    "DataNotInstalledError",
    "load_chatterbot_parallel",
    "load_digits",
    "load_fashion_mnist",
    "load_fortunes",
    "load_word_corpus",
]
