"""Observer lean as a rater-effects model: pure statistics, numpy and scipy.sparse in, numbers
out; no Flask, no database (``observe/reports/raters.py`` gathers the walkthroughs and stores
the fit).

One walkthrough ``w`` by observer ``o`` of lesson ``k`` (a classroom, or a calibration session's
lesson, which every participant scored) gives ``y`` — the share of its ratings at or above the
report's level, less the share its look-fors reach across the district (the look-for effect, so
that a walkthrough that rated only hard look-fors is not read as severe). The model is

    y_w = mu + c_k + b_o + e_w,   c ~ N(0, tau_c²), b ~ N(0, tau_b²), e ~ N(0, sigma²)

with classroom level ``c`` and observer lean ``b`` as crossed random effects: ``b`` is positive
for a lenient observer (more ratings at the level than others give the same classrooms) and
negative for a severe one, in share points. It is fitted exactly for given variance components
(the classrooms are eliminated, leaving one dense system the size of the observers: Henderson's
mixed-model equations through their Schur complement), and the components by EM, so each lean
is shrunk toward zero by as much as the data on it are thin — an observer seen in few shared
classrooms is pulled in, not believed. The standard error is the prediction error of that
estimate given the components.

The leans are identified only by overlap: two observers' leans can be told apart from their
classrooms' levels only where they (or observers between them) rated the same classrooms. So the
fit leaves out an observer with fewer than ``MIN_SHARED`` shared lessons (rated by them and by
someone else), keeps the largest group of observers linked through shared lessons, and refuses
altogether when that group holds fewer than ``MIN_OBSERVERS`` observers or less than
``MIN_COVERAGE`` of the walkthroughs. docs/reports.md says how to read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse

MIN_SHARED = 3  # shared lessons an observer needs before their lean is estimated
MIN_OBSERVERS = 2  # estimated observers, linked through shared lessons, or no fit
MIN_COVERAGE = 0.5  # the share of walkthroughs the linked observers must have made
MAX_ROUNDS = 200  # EM rounds for the variance components
# EM stops when no component moves by more than this share of the total variance. (Measured
# against each component itself, a component heading for zero — observers who do not differ
# — kept EM going for all its rounds: 18 s at district size for leans of about nothing.)
TOLERANCE = 1e-6
FLOOR = 1e-10  # a variance component is never taken as exactly zero


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it (Babel's ``N_``): a refusal is
    stored in English and put in the reader's language when shown (:func:`refusal_words`)."""
    return message


# Why no lean is estimated, stored in English with the fit (``%`` with the named figures).
NO_RATINGS = N_("No walkthrough of a classroom has a rating to compare.")
TOO_FEW_LINKED = N_(
    "Too little overlap between observers: fewer than %(observers)s observers have each rated "
    "at least %(shared)s classrooms that another observer rated too, so no observer's lean can "
    "be told apart from the level of the classrooms they visited."
)
TOO_LITTLE_COVERED = N_(
    "Too little overlap between observers: the observers linked through shared classrooms "
    "made %(covered)s of the %(total)s walkthroughs, fewer than %(share)s; an adjustment for "
    "the rest would be a guess."
)
REFUSALS = (NO_RATINGS, TOO_FEW_LINKED, TOO_LITTLE_COVERED)


def _pattern(message: str) -> re.Pattern[str]:
    """A stored refusal's shape: the message with each ``%(name)s`` as a named group."""
    parts = re.split(r"%\((\w+)\)s", message)
    return re.compile(
        "".join(
            f"(?P<{part}>.+?)" if i % 2 else re.escape(part.replace("%%", "%"))
            for i, part in enumerate(parts)
        )
    )


def refusal_words(
    stored: str | None,
    translate: Callable[..., str],
    percent: Callable[[float], str] | None = None,
) -> str:
    """A stored refusal in the reader's language: ``translate`` is gettext and ``percent``
    writes a share the reader's way (the caller's, so this module needs no Flask). A text of no
    known shape (stored by an older version) is shown as stored."""
    if not stored:
        return ""
    for message in REFUSALS:
        found = _pattern(message).fullmatch(stored)
        if found:
            figures = found.groupdict()
            share = re.fullmatch(r"(\d+)%", figures.get("share", ""))
            if share and percent is not None:
                figures["share"] = percent(int(share.group(1)) / 100)
            return str(translate(message, **figures))
    return stored


Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass
class ObserverLean:
    observer: int  # the caller's id for them
    lean: float  # share points: + lenient, - severe
    standard_error: float
    walkthroughs: int
    lessons: int  # distinct classrooms and calibration lessons
    shared: int  # of which someone else rated too


@dataclass
class Left:
    """An observer the fit could not estimate, and why."""

    observer: int
    walkthroughs: int
    shared: int
    reason: str


@dataclass
class RaterFit:
    refused: str | None  # why nothing was estimated, or None
    walkthroughs: int  # those the fit rests on
    lessons: int
    mean: float = 0.0
    sigma: float = 0.0  # walkthrough-to-walkthrough spread, in share points
    tau_observer: float = 0.0  # how much observers differ
    tau_lesson: float = 0.0  # how much classrooms differ
    rounds: int = 0
    observers: list[ObserverLean] = field(default_factory=list)
    left_out: list[Left] = field(default_factory=list)


def _components(count: int, left: Ints, right: Ints) -> Ints:
    """The connected component of each of ``count`` nodes, given edges left[i]-right[i]."""
    from scipy.sparse.csgraph import connected_components

    graph = scipy.sparse.coo_matrix(
        (np.ones(len(left)), (left, right)), shape=(count, count)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def fit(observer: Ints, lesson: Ints, y: Floats) -> RaterFit:
    """Fit the model to walkthroughs given as parallel arrays: the observer's id, the lesson's
    id (any integers) and ``y`` (see the module's docstring)."""
    observer = np.asarray(observer, dtype=np.int64)
    lesson = np.asarray(lesson, dtype=np.int64)
    y = np.asarray(y, dtype=np.float64)
    total = len(y)
    if total == 0:
        return RaterFit(NO_RATINGS, 0, 0)
    observer_ids, o = np.unique(observer, return_inverse=True)
    lesson_ids, k = np.unique(lesson, return_inverse=True)
    o, k = o.astype(np.int64), k.astype(np.int64)
    per_observer = np.bincount(o, minlength=len(observer_ids))

    # Distinct (lesson, observer) pairs; a lesson is shared when two or more observers rated it.
    pairs = np.unique(k * len(observer_ids) + o)
    pair_lesson, pair_observer = pairs // len(observer_ids), pairs % len(observer_ids)
    raters_of = np.bincount(pair_lesson, minlength=len(lesson_ids))
    shared_pair = raters_of[pair_lesson] >= 2
    shared = np.bincount(pair_observer[shared_pair], minlength=len(observer_ids))
    lessons_of = np.bincount(pair_observer, minlength=len(observer_ids))

    left: list[Left] = []
    enough = shared >= MIN_SHARED
    for index in np.flatnonzero(~enough):
        left.append(
            Left(
                int(observer_ids[index]),
                int(per_observer[index]),
                int(shared[index]),
                f"fewer than {MIN_SHARED} classrooms shared with other observers",
            )
        )
    # Link the observers with enough overlap through the lessons they share: each pair's observer
    # to the first observer of the same lesson (a star per lesson links them all).
    keep_pair = enough[pair_observer]
    kept_lesson, kept_observer = pair_lesson[keep_pair], pair_observer[keep_pair]
    first = np.full(len(lesson_ids), -1, dtype=np.int64)
    first[kept_lesson[::-1]] = kept_observer[::-1]
    labels = _components(len(observer_ids), kept_observer, first[kept_lesson])
    linked = np.zeros(len(observer_ids), dtype=bool)
    if enough.any():
        sizes = np.bincount(labels[enough], weights=per_observer[enough])
        main = int(np.argmax(sizes))
        linked = enough & (labels == main)
        for index in np.flatnonzero(enough & ~linked):
            left.append(
                Left(
                    int(observer_ids[index]),
                    int(per_observer[index]),
                    int(shared[index]),
                    "shares classrooms only with observers outside the main linked group",
                )
            )
    left.sort(key=lambda entry: entry.observer)
    covered = int(per_observer[linked].sum())
    if linked.sum() < MIN_OBSERVERS:
        return RaterFit(
            TOO_FEW_LINKED % {"observers": MIN_OBSERVERS, "shared": MIN_SHARED},
            0,
            0,
            left_out=left,
        )
    if covered < MIN_COVERAGE * total:
        return RaterFit(
            TOO_LITTLE_COVERED
            % {"covered": covered, "total": total, "share": f"{MIN_COVERAGE:.0%}"},
            0,
            0,
            left_out=left,
        )
    rows = linked[o]
    return _estimate(o[rows], k[rows], y[rows], observer_ids, lessons_of, shared, left)


def _estimate(
    o: Ints,
    k: Ints,
    y: Floats,
    observer_ids: Ints,
    lessons_of: Ints,
    shared: Ints,
    left: list[Left],
) -> RaterFit:
    # Renumber what remains.
    kept_observers, o = np.unique(o, return_inverse=True)
    _, k = np.unique(k, return_inverse=True)
    p, q, n = len(kept_observers), int(k.max()) + 1, len(y)
    mean = float(y.mean())
    r = y - mean
    incidence = scipy.sparse.csr_matrix((np.ones(n), (k, o)), shape=(q, p))  # lessons x observers
    n_lesson = np.asarray(incidence.sum(axis=1)).ravel()
    n_observer = np.asarray(incidence.sum(axis=0)).ravel()
    s_lesson = np.bincount(k, weights=r, minlength=q)
    s_observer = np.bincount(o, weights=r, minlength=p)

    # Starting components: the raw spreads split evenly.
    sigma2 = tau_b = tau_c = max(float(r.var()) / 3, FLOOR)
    rounds = 0
    b = np.zeros(p)
    c = np.zeros(q)
    diag_inverse = np.zeros(p)
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 (the count is reported)
        lam_b, lam_c = sigma2 / tau_b, sigma2 / tau_c
        d = 1.0 / (n_lesson + lam_c)
        # Henderson's equations with the lesson effects eliminated: M b = rhs.
        cross = (incidence.T @ scipy.sparse.diags(d) @ incidence).toarray()
        m = np.diag(n_observer + lam_b) - cross
        rhs = s_observer - incidence.T @ (d * s_lesson)
        factor = scipy.linalg.cho_factor(m)
        b = scipy.linalg.cho_solve(factor, rhs)
        c = d * (s_lesson - incidence @ b)
        inverse = scipy.linalg.cho_solve(factor, np.eye(p))
        diag_inverse = np.diag(inverse)
        # The lesson effects' prediction variance given the observers' leans (their own
        # uncertainty left out: small beside a classroom's, and a dense lessons-by-observers
        # product would not fit in memory at district size).
        var_c = sigma2 * d
        var_b = sigma2 * diag_inverse
        residual = r - c[k] - b[o]
        # EM: each component from its effects' second moments; sigma² from the residuals plus
        # what the effects' uncertainty hides of them (the trace term).
        effective = float(n_observer @ diag_inverse) + float(n_lesson @ d)
        new_sigma2 = max(float(residual @ residual + sigma2 * effective) / n, FLOOR)
        new_tau_b = max(float(b @ b + var_b.sum()) / p, FLOOR)
        new_tau_c = max(float(c @ c + var_c.sum()) / q, FLOOR)
        change = max(abs(new_tau_b - tau_b), abs(new_tau_c - tau_c), abs(new_sigma2 - sigma2)) / (
            sigma2 + tau_b + tau_c
        )
        sigma2, tau_b, tau_c = new_sigma2, new_tau_b, new_tau_c
        if change < TOLERANCE:
            break

    standard_error = np.sqrt(sigma2 * diag_inverse)
    leans = [
        ObserverLean(
            observer=int(observer_ids[kept_observers[i]]),
            lean=float(b[i]),
            standard_error=float(standard_error[i]),
            walkthroughs=int(n_observer[i]),
            lessons=int(lessons_of[kept_observers[i]]),
            shared=int(shared[kept_observers[i]]),
        )
        for i in range(p)
    ]
    return RaterFit(
        refused=None,
        walkthroughs=n,
        lessons=q,
        mean=mean,
        sigma=float(np.sqrt(sigma2)),
        tau_observer=float(np.sqrt(tau_b)),
        tau_lesson=float(np.sqrt(tau_c)),
        rounds=rounds,
        observers=leans,
        left_out=left,
    )
