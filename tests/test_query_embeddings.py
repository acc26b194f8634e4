"""The embedder keeps the questions it embedded: a question across articles embeds all its searches in
one batch (assistant.engine), then each search finds its vector kept."""

from __future__ import annotations

import numpy as np


def test_questions_embedded_in_one_batch_are_the_vectors_each_would_get_alone(embed_model):
    embed_model.forget_queries()
    queries = ["ferry fares rise in April", "Which official blamed the storms for fewer riders on the Sound ferry?"]
    alone = embed_model.embed([queries[1]])[0]
    embed_model.remember_queries(queries)
    assert set(embed_model._queries) == set(queries)
    kept = np.asarray(embed_model.get_query_embedding(queries[1]), dtype=np.float32)
    assert np.allclose(kept, alone, atol=1e-4)
    # kept once each, however often remembered
    embed_model.remember_queries(queries)
    assert list(embed_model._queries) == queries
    embed_model.forget_queries()
    assert not embed_model._queries
