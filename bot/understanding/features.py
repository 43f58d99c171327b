"""What the learned models read of a normalised message: TF-IDF of words and pairs of words
("sin papeles" says more than its words) and of character 2-5-grams inside words (typos and
endings the normaliser missed). The intent classifier and the danger score read the same."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


def text_features() -> FeatureUnion:
    """A new, unfitted union of the two views, over space-separated normalised tokens."""
    words = TfidfVectorizer(
        token_pattern=r"\S+", ngram_range=(1, 2), lowercase=False, sublinear_tf=True
    )
    pieces = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    return FeatureUnion([("words", words), ("pieces", pieces)])
