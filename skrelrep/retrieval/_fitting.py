"""The bridge's choices, made by cross-validation on the parallel anchors.

The anchors are split into folds. Each fold's held-out anchors serve as queries: their
new-model rows are mapped with what the other folds' anchors (and the unpaired
queries, and the index) give, and each must find its own old-model row among the
whole index (Recall@10). Everything the bridge can choose is compared on these
scores, in the order it is built, so that each choice sees the previous ones:

1. the start: a translation (each method and scaling asked for) or, with unpaired
   queries, the relative representation;
2. the self-training rounds, all folds in step, until the mean score stops rising;
3. the epochs of contrastive refinement;
4. the hubness correction (CSLS) or plain cosine, scored at every step for free.

The final bridge is then built on all the anchors with the chosen settings. The
user's own test queries are never seen.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np

from ._forecast import preserved
from ._hubness import csls_statistics
from ._maps import RelativeStart, fit_translation, refine_contrastive
from ._search import sweep
from ._self_training import Stage, self_training

__all__ = ["Problem", "build", "choose", "final_margins"]

RECALL_AT = 10
# Self-training rounds without gain that end it.
PATIENCE = 2


@dataclass
class Problem:
    """Prepared inputs: anchors (prepared new rows, unit old rows), their rows in
    ``docs``, the unpaired queries (prepared, or None) and the searched documents
    (the unit index, with the anchors absent from it appended)."""

    anchors_new: np.ndarray
    anchors_old: np.ndarray
    targets: np.ndarray
    queries: np.ndarray
    docs: np.ndarray
    doc_mean: np.ndarray
    k: int
    max_bytes: int = None


@dataclass
class Plan:
    """The chosen settings and the cross-validated scores that chose them."""

    start: tuple
    translation: tuple
    n_rounds: int
    n_epochs: int
    hubness: bool
    pairing: str
    cv_results: dict = field(default_factory=dict)
    cv_score: float = 0.0
    margins: np.ndarray = None
    folds: list = None


def heldout_margins(stage, X, targets, *, hubness, max_bytes=None):
    """How far each held-out anchor's own document is ahead of the 10th best other,
    and how far the best other is (columns 0 and 1); column 2 is the share of the
    anchor's old-model neighbourhood it retrieves (the forecast's input).

    Non-negative exactly when the own document ranks in the top 10 (Recall@10; ties
    count in the anchor's favour, as in :func:`~skrelrep.metrics.retrieval_scores`).
    In cosine units: a map that wins by more keeps more queries, which are further
    from their documents than anchors are, in the top 10.
    """
    mapped = stage.queries(X)
    docs = stage.docs
    penalty = stage.r_d / 2 if hubness else None
    (values, ids), _ = sweep(
        mapped, docs, row_k=RECALL_AT + 1, col_penalty=penalty, max_bytes=max_bytes
    )
    own = np.einsum("ij,ij->i", mapped, docs[targets])
    if hubness:
        own = own - penalty[targets]
    others = ids != targets[:, None]
    rows = np.arange(values.shape[0])
    if docs.shape[0] <= RECALL_AT:  # every document is in the top 10
        margins = np.maximum(own - values[:, -1], 0)
        return np.column_stack([margins, np.zeros_like(margins), np.ones_like(margins)])
    # The 10th best other: the 10th column where the own document is not among the
    # first 10, else the 11th.
    first_other = np.where(others[:, 0], 0, 1)
    tenth = np.where(others[:, :RECALL_AT].all(axis=1), RECALL_AT - 1, RECALL_AT)
    tenth_value = values[rows, tenth]
    # Besides the margin, the spread of the best other documents' scores: the scale
    # of the space's neighbourhoods, that the forecast reads margins in.
    kept = preserved(ids, targets, docs, max_bytes=max_bytes)
    return np.column_stack(
        [own - tenth_value, values[rows, first_other] - tenth_value, kept]
    )


def _translation_candidates(method, scaling, n_pairs, n_features):
    """The (method, scaling) pairs to compare; least squares only when determined."""
    methods = ["orthogonal", "linear"] if method == "auto" else [method]
    candidates = []
    for name in methods:
        scalings = (
            ["isotropic", "per_feature", None]
            if scaling == "auto" and name == "orthogonal"
            else ["isotropic"]
            if scaling == "auto"
            else [scaling]
        )
        for option in scalings:
            if name != "orthogonal" and n_pairs <= n_features + 1:
                continue
            candidates.append((name, option))
    if not candidates:  # least squares asked for, but too few anchors
        candidates = [("orthogonal", "isotropic" if scaling == "auto" else scaling)]
    return candidates


def _folds(n_anchors, cv, rng):
    order = rng.permutation(n_anchors)
    return [np.sort(part) for part in np.array_split(order, min(cv, n_anchors))]


def _anchor_stage(searcher, anchors_new, problem):
    """Round 0 without unpaired queries: CSLS statistics from the mapped anchors."""
    _, r_d = csls_statistics(
        searcher(anchors_new), problem.docs, k=problem.k, max_bytes=problem.max_bytes
    )
    return Stage(searcher, problem.docs, r_d)


def _start_searcher(start, anchors_new, anchors_old, problem):
    if start == ("relative",):
        return RelativeStart(anchors_new, anchors_old, problem.doc_mean)
    return fit_translation(anchors_new, anchors_old, *start)


def _trajectory(start, translation, train, problem, max_rounds, pairing):
    """The stages of one fold (or of the final fit): round 0, then self-training."""
    anchors_new = problem.anchors_new[train]
    anchors_old = problem.anchors_old[train]
    searcher = _start_searcher(start, anchors_new, anchors_old, problem)
    if problem.queries is None:
        return _once(_anchor_stage, searcher, anchors_new, problem)
    return self_training(
        anchors_new,
        anchors_old,
        problem.queries,
        problem.docs,
        searcher,
        fit=lambda X, Y: fit_translation(X, Y, *translation),
        k=problem.k,
        max_rounds=max_rounds,
        pairing=pairing,
        max_bytes=problem.max_bytes,
    )


def _once(function, *args):
    """A generator of one stage (the same interface as self-training's)."""
    yield function(*args)


def _score(stage, fold, problem):
    """Held-out margins of one fold's stage, without and with CSLS."""
    X = problem.anchors_new[fold]
    targets = problem.targets[fold]
    return {
        hubness: heldout_margins(
            stage, X, targets, hubness=hubness, max_bytes=problem.max_bytes
        )
        for hubness in (False, True)
    }


def _pooled(margins_per_fold, hubness):
    return np.concatenate([margins[hubness] for margins in margins_per_fold])


def _refined_stages(stage, train, problem, n_epochs, rng):
    """The stages of contrastive refinement of ``stage``'s map, one per epoch."""
    queries_ids, doc_ids = stage.positives
    X = problem.anchors_new[train]
    targets = problem.targets[train]
    if len(queries_ids):
        X = np.vstack([X, problem.queries[queries_ids]])
        targets = np.concatenate([targets, doc_ids])
    for searcher in refine_contrastive(
        stage.searcher,
        X,
        problem.docs,
        targets,
        epochs=n_epochs,
        rng=rng,
        max_bytes=problem.max_bytes,
    ):
        # The CSLS statistics of the start: an epoch moves the map little, and
        # the final bridge takes them afresh.
        yield Stage(searcher, problem.docs, stage.r_d, stage.extra, stage.positives)


def choose(
    problem,
    *,
    method,
    scaling,
    start,
    hubness,
    pairing,
    max_rounds,
    max_epochs,
    cv,
    rng,
):
    """Cross-validate every choice in turn (see the module docstring); a Plan."""
    n_anchors, n_features = problem.anchors_new.shape
    folds = _folds(n_anchors, cv, rng)
    trains = [np.setdiff1d(np.arange(n_anchors), fold) for fold in folds]
    n_train = min(len(train) for train in trains)
    translations = _translation_candidates(method, scaling, n_train, n_features)
    starts = [] if start == "relative" else list(translations)
    if problem.queries is not None and max_rounds and start in ("auto", "relative"):
        starts.append(("relative",))
    hubness_options = {"auto": (False, True), "csls": (True,), None: (False,)}[hubness]
    results = []

    def best_of(margins, step, setting):
        """The better correction's (mean margin, recall, correction), recorded."""
        scores = {}
        for h in hubness_options:
            pooled = _pooled(margins, h)[:, 0]
            scores[h] = (float(pooled.mean()), float(np.mean(pooled >= 0)))
            results.append((step, setting, "csls" if h else None, *scores[h][::-1]))
        h = max(scores, key=lambda key: (scores[key], key))
        return (*scores[h], h)

    # 1. The start: round 0 of each candidate, in every fold. Translations are
    # compared by their margins; the relative start, whose margins are in another
    # space, must beat the best of them on Recall@10.
    trajectories, round0 = {}, {}
    for candidate in starts:
        translation = candidate if candidate != ("relative",) else translations[0]
        trajectories[candidate] = [
            _trajectory(candidate, translation, train, problem, max_rounds, pairing)
            for train in trains
        ]
        stages = [next(trajectory) for trajectory in trajectories[candidate]]
        margins = [_score(s, f, problem) for s, f in zip(stages, folds, strict=True)]
        round0[candidate] = (
            best_of(margins, "start", "/".join(map(str, candidate))),
            stages,
            margins,
        )
    mapped = [c for c in round0 if c != ("relative",)]
    best_mapped = max(mapped, key=lambda c: round0[c][0][:2]) if mapped else None
    order = [best_mapped] if best_mapped else []
    if ("relative",) in round0 and (
        best_mapped is None or round0[("relative",)][0][1] > round0[best_mapped][0][1]
    ):
        order.insert(0, ("relative",))

    # 2. Self-training rounds, folds in step, until the mean margin has not risen
    # for PATIENCE rounds; the best round is kept. A
    # relative start is only a start: its first round must beat the best
    # translation's start, else self-training starts from that translation.
    for chosen in order:
        if chosen == ("relative",):
            best = round0[best_mapped][0][0] if best_mapped else -np.inf
            best_hubness = best_stages = best_margins = best_step = None
        else:
            (best, _, best_hubness), best_stages, best_margins = round0[chosen]
            best_step = ("start", "/".join(map(str, chosen)))
        n_rounds, stalled = 0, 0
        rounds = range(1, max_rounds + 1) if problem.queries is not None else ()
        for round_ in rounds:
            stages = [next(trajectory) for trajectory in trajectories[chosen]]
            margins = [
                _score(s, f, problem) for s, f in zip(stages, folds, strict=True)
            ]
            label = f"{round_} from {'/'.join(map(str, chosen))}"
            score, _, h = best_of(margins, "round", label)
            if score > best:
                best, best_hubness, n_rounds = score, h, round_
                best_step = ("round", label)
                best_stages, best_margins = stages, margins
                stalled = 0
            elif not any(stage.growing for stage in stages):
                # Two rounds without gain once the pairs stop growing end it; while
                # they grow, a round may dip before the larger sets pay.
                stalled += 1
                if stalled == PATIENCE:
                    break
        if best_stages is not None:
            break
    translation = chosen if chosen != ("relative",) else translations[0]
    for trajectory in itertools.chain.from_iterable(trajectories.values()):
        trajectory.close()

    # 3. Contrastive refinement of the chosen stage's map, folds in step.
    n_epochs = 0
    if max_epochs and not isinstance(best_stages[0].searcher, RelativeStart):
        refinements = [
            _refined_stages(stage, train, problem, max_epochs, rng)
            for stage, train in zip(best_stages, trains, strict=True)
        ]
        for epoch in range(1, max_epochs + 1):
            stages = [next(refinement) for refinement in refinements]
            margins = [
                _score(s, f, problem) for s, f in zip(stages, folds, strict=True)
            ]
            score, _, h = best_of(margins, "epoch", str(epoch))
            if score > best:
                best, best_hubness, n_epochs, best_margins = score, h, epoch, margins
                best_step = ("epoch", str(epoch))
            else:
                break
        for refinement in refinements:
            refinement.close()

    margins = _pooled(best_margins, best_hubness)
    chosen_row = (*best_step, "csls" if best_hubness else None)
    columns = ["step", "setting", "hubness", "recall@10", "mean_margin"]
    cv_results = {name: [row[i] for row in results] for i, name in enumerate(columns)}
    cv_results["chosen"] = [tuple(row[:3]) == chosen_row for row in results]
    return Plan(
        start=chosen,
        translation=translation,
        n_rounds=n_rounds,
        n_epochs=n_epochs,
        hubness=best_hubness,
        pairing=pairing,
        cv_results=cv_results,
        cv_score=float(np.mean(margins[:, 0] >= 0)),
        margins=margins,
        folds=folds,
    )


def build(problem, plan, rng):
    """The final searcher on all the anchors, with the plan's settings: the map and
    the CSLS term of each document."""
    everything = np.arange(problem.anchors_new.shape[0])
    trajectory = _trajectory(
        plan.start, plan.translation, everything, problem, plan.n_rounds, plan.pairing
    )
    *_, stage = itertools.islice(trajectory, plan.n_rounds + 1)
    trajectory.close()
    if plan.n_epochs:
        *_, stage = _refined_stages(stage, everything, problem, plan.n_epochs, rng)
        sample = problem.anchors_new if problem.queries is None else problem.queries
        _, r_d = csls_statistics(
            stage.queries(sample),
            problem.docs,
            k=problem.k,
            max_bytes=problem.max_bytes,
        )
        stage = Stage(stage.searcher, problem.docs, r_d, stage.extra, stage.positives)
    return stage


def final_margins(problem, plan, stage):
    """Held-out margins of the final pairs, fold by fold.

    Each fold's anchors are held out of a translation fitted on the other anchors
    and the final bridge's pairs, and searched with its CSLS terms. Unlike the
    folds of :func:`choose`, whose self-training grew from fewer anchors, this scores
    the pairs the final bridge was fitted on (the held-out anchors helped mine them,
    but are not fitted on); it leaves out the contrastive refinement.
    """
    n_anchors = problem.anchors_new.shape[0]
    margins = np.empty((n_anchors, 3), dtype=np.float64)
    for fold in plan.folds:
        train = np.setdiff1d(np.arange(n_anchors), fold)
        X, Y = problem.anchors_new[train], problem.anchors_old[train]
        if stage.extra is not None:
            X, Y = np.vstack([X, stage.extra[0]]), np.vstack([Y, stage.extra[1]])
        searcher = fit_translation(X, Y, *plan.translation)
        margins[fold] = heldout_margins(
            Stage(searcher, problem.docs, stage.r_d),
            problem.anchors_new[fold],
            problem.targets[fold],
            hubness=plan.hubness,
            max_bytes=problem.max_bytes,
        )
    return margins
