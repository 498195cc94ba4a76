"""Rubric pages: every rubric with its versions, one version as observers will use it, its
downloads, and loading a rubric file from the browser (district admins)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as BaseResponse

from observe import paths
from observe.core import confirm
from observe.core.database import begin_write
from observe.core.i18n import current_language
from observe.core.permissions import requires
from observe.core.validation import printable
from observe.errors import Conflict, NotFound
from observe.extensions import db
from observe.rubrics import access
from observe.rubrics.changes import compare
from observe.rubrics.export import to_yaml
from observe.rubrics.format import (
    DIMENSIONS,
    ParsedRubric,
    RubricFileError,
    effective_scale,
    parse_rubric,
)
from observe.rubrics.models import Competency, Criterion, Rubric, RubricVersion
from observe.rubrics.operations import (
    MAX_FILE_BYTES,
    continuation_problems,
    read_rubric_bytes,
    read_rubric_file,
    retire,
    store_rubric,
    unretire,
)
from observe.rubrics.queries import wording as version_wording
from observe.rubrics.spreadsheet import SpreadsheetExportError, write_workbook
from observe.rubrics.translations import localized, wording

bp = Blueprint("rubrics", __name__)


def version_or_404(version_id: int) -> RubricVersion:
    version = db.session.scalar(
        select(RubricVersion)
        .where(RubricVersion.id == version_id)
        .options(
            selectinload(RubricVersion.rubric).selectinload(Rubric.versions),
            selectinload(RubricVersion.competencies)
            .selectinload(Competency.criteria)
            .selectinload(Criterion.dimensions),
        )
    )
    if version is None:
        raise NotFound(f"There is no rubric version {version_id}.")
    return version


# Signing in is enforced for every page by observe.accounts.auth; any signed-in user may read
# rubrics, because observers need to study the look-fors before they walk.
@bp.get("/rubrics")
def index() -> str:
    rubrics = db.session.scalars(
        select(Rubric).order_by(Rubric.key).options(selectinload(Rubric.versions))
    ).all()
    return render_template("rubrics/index.html", rubrics=rubrics)


@bp.get("/rubrics/<int:version_id>")
def show(version_id: int) -> str:
    version = version_or_404(version_id)
    criteria = {c.key: c for competency in version.competencies for c in competency.criteria}
    return render_template(
        "rubrics/show.html",
        version=version,
        latest=version.rubric.latest,
        **document_context(version.document, criteria),
    )


def document_context(document: Mapping[str, Any], criteria: Mapping[str, Any]) -> dict[str, Any]:
    """What templates/rubrics/_document.html needs; ``criteria`` maps each look-for's key to
    something with its effective ``levels`` and ``allows_not_observed``. The document is shown
    in the reader's language where the file gives it (observe/rubrics/translations.py); anchors
    follow the file's own text, so a link to a term is the same in every language."""
    plain = document
    document = localized(plain, current_language())
    criteria = {
        item["key"]: _Levels(
            effective_scale(document, item)[0], criteria[item["key"]].allows_not_observed
        )
        for competency in document["competencies"]
        for item in competency["criteria"]
    }
    glossary = plain.get("glossary", [])
    entry_ids: list[str] = []
    for entry in glossary:
        anchor = base = f"term-{_anchor(entry['term'])}"
        # "Co-teaching" and "Co teaching" are different terms but would share an id.
        while anchor in entry_ids:
            anchor = f"{base}-{len(entry_ids) + 1}"
        entry_ids.append(anchor)
    # A dimension tag links to the glossary entry that defines it, when the district wrote one.
    glossary_ids = {
        entry["term"].casefold(): anchor
        for entry, anchor in zip(glossary, entry_ids, strict=True)
        if entry["term"].casefold() in DIMENSIONS
    }
    items = [item for competency in document["competencies"] for item in competency["criteria"]]
    said = wording(plain, current_language())
    return {
        "dimension_names": {key: said.dimension(key) for key in DIMENSIONS},
        "document": document,
        "criteria": criteria,
        "criterion_count": len(items),
        "has_specific": any(item["descriptors"] for item in items),
        "any_not_observed": any(c.allows_not_observed for c in criteria.values()),
        "entry_ids": entry_ids,
        "glossary_ids": glossary_ids,
    }


def _anchor(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", term.casefold()).strip("-") or "term"


# --- files: download a version, the template workbook, and loading a file from the browser ---

_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "yaml": "application/yaml; charset=utf-8",
}
_UPLOAD_SUFFIXES = (".yaml", ".yml", ".xlsx")
# A preview may be confirmed for this long; after that the file is uploaded again.
_PREVIEW_SECONDS = 12 * 3600


def safe_filename(name: str) -> str:
    """``name`` as a file name any header can carry: ASCII letters, digits, ``.``, ``_`` and
    ``-``, everything else (a newline, a quote, a non-ASCII letter) written as ``-``. A key
    stored before keys were checked whole could hold anything; its download must still work."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:200] or "rubric"


def _file_response(data: bytes, form: str, filename: str) -> Response:
    response = Response(data, mimetype=_MEDIA[form])
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return response


def _document_file(document: Mapping[str, Any], form: str, note: str) -> bytes:
    if form == "xlsx":
        try:
            return write_workbook(document)
        except SpreadsheetExportError as error:
            raise Conflict(
                _("This rubric cannot be written as a workbook: %(problem)s", problem=str(error))
            ) from None
    return to_yaml(document, note=note).encode("utf-8")


# Any signed-in user may download what they may read: a rubric, or the template to write one.
@bp.get("/rubrics/<int:version_id>/download.<form>")
def download(version_id: int, form: str) -> Response:
    if form not in _MEDIA:
        raise NotFound("A rubric downloads as .xlsx or .yaml.")
    version = version_or_404(version_id)
    note = f"{version.title}, version {version.number} (sha256 {version.content_hash})"
    data = _document_file(version.document, form, note)
    return _file_response(data, form, f"{version.rubric.key}-v{version.number}.{form}")


@bp.get("/rubrics/template.xlsx")
def template_workbook() -> Response:
    sample = read_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml")
    return _file_response(write_workbook(sample.document), "xlsx", "rubric-template.xlsx")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rubric-upload")


def _current_version(key: str) -> RubricVersion | None:
    rubric = db.session.scalar(
        select(Rubric).where(Rubric.key == key).options(selectinload(Rubric.versions))
    )
    return rubric.latest if rubric is not None and rubric.versions else None


@dataclass(frozen=True)
class _Levels:
    levels: list[dict[str, Any]]
    allows_not_observed: bool


def _preview(parsed: ParsedRubric, notice: str | None = None, status: int = 200) -> tuple[str, int]:
    """The preview page: the rubric as observers will see it, what changes, and a form that
    carries the rubric's text, signed by the server, so that what is confirmed is what was seen.

    The text is what the version will keep: the YAML file as uploaded, or for a workbook the
    YAML that observe writes from it (which reads back to the same content hash). It is far
    smaller than a workbook, and compressed by the serializer.
    """
    current = _current_version(parsed.key)
    stored = db.session.scalar(
        select(RubricVersion).where(RubricVersion.content_hash == parsed.content_hash)
    )
    token = _serializer().dumps(
        {
            "user": current_user.id,
            "name": parsed.source_name,
            "hash": parsed.content_hash,
            "base": current.id if current is not None else None,
            "text": parsed.source_text,
        }
    )
    document = parsed.document
    # What the stored Criterion rows would hold, for the rubric page's template.
    criteria = {
        item["key"]: _Levels(*effective_scale(document, item))
        for competency in document["competencies"]
        for item in competency["criteria"]
    }
    context = document_context(document, criteria)
    return render_template(
        "rubrics/preview.html",
        parsed=parsed,
        current=current,
        stored=stored,
        changes=compare(current.document, document) if current is not None else None,
        token=token,
        notice=notice,
        **context,
    ), status


def _upload_name(filename: str | None) -> str:
    # The name is the browser's to choose: NUL or an unpaired surrogate is written as \uXXXX,
    # so it can be shown and stored as the version's source_name on either database.
    name = printable(re.split(r"[/\\]", filename or "")[-1].strip())
    return name[-200:]


@bp.get("/rubrics/load")
@requires(access.MANAGE)
def load_form() -> str:
    return render_template("rubrics/load.html", problems=None)


@bp.post("/rubrics/load")
@requires(access.MANAGE)
def load_preview() -> tuple[str, int]:
    upload = request.files.get("file")
    name = _upload_name(upload.filename if upload is not None else None)
    problems: list[str] = []
    if upload is None or not name:
        problems = [_("Choose a rubric file (.yaml, .yml or .xlsx) to load.")]
    elif not name.lower().endswith(_UPLOAD_SUFFIXES):
        problems = [_("%(name)s: a rubric file ends in .yaml, .yml or .xlsx", name=name)]
    else:
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        try:
            parsed = read_rubric_bytes(data, name)
        except RubricFileError as error:
            problems = error.problems
        else:
            problems = continuation_problems(parsed)
            if not problems:
                return _preview(parsed)
    return render_template("rubrics/load.html", problems=problems), 422


@bp.post("/rubrics/load/confirm")
@requires(access.MANAGE)
def load_confirm() -> BaseResponse | tuple[str, int]:
    try:
        payload = _serializer().loads(request.form.get("upload", ""), max_age=_PREVIEW_SECONDS)
    except SignatureExpired:
        raise BadRequest(
            _("This preview is more than 12 hours old; load the file again.")
        ) from None
    except BadSignature:
        raise BadRequest(
            _("This confirmation did not come from a preview; load the file again.")
        ) from None
    if payload.get("user") != current_user.id:
        raise BadRequest(_("This preview was made for another account; load the file again."))
    if request.form.get("content_hash") != payload["hash"]:
        raise BadRequest(
            _(
                "The content hash does not match the previewed file; nothing was loaded. "
                "Load the file again."
            )
        )
    # Validated again: the rules may have changed since the preview, and it costs little.
    parsed = parse_rubric(payload["text"], payload["name"])
    if parsed.content_hash != payload["hash"]:
        raise BadRequest(
            _("The file no longer reads as it did in the preview; nothing was loaded.")
        )
    current = _current_version(parsed.key)
    if (current.id if current is not None else None) != payload["base"]:
        notice = _(
            "Another version of this rubric was loaded since your preview, so what changes is "
            "shown again against it. Nothing was loaded; confirm again if it is still right."
        )
        return _preview(parsed, notice=notice, status=409)
    try:
        result = store_rubric(parsed)
    except RubricFileError as error:
        db.session.rollback()
        return render_template("rubrics/load.html", problems=error.problems), 422
    db.session.commit()
    version = result.version
    if result.created:
        flash(
            _(
                "Loaded %(title)s as version %(number)s.",
                title=version_wording(version).title,
                number=version.number,
            ),
            "success",
        )
    else:
        flash(
            _("Unchanged: this content is already version %(number)s.", number=version.number),
            "info",
        )
    return redirect(url_for("rubrics.show", version_id=version.id))


# --- retiring a version: tablets stop offering it; what was begun on it still arrives ---


@bp.get("/rubrics/<int:version_id>/retire")
@requires(access.MANAGE)
def confirm_retire(version_id: int) -> str:
    version = version_or_404(version_id)
    others = [v for v in version.rubric.versions if v.id != version.id and not v.retired]
    then = max(others, key=lambda v: v.number).label if others else None
    return confirm.page(
        confirm.Confirmation(
            title=_("Retire %(version)s?", version=version.label),
            action=url_for("rubrics.retire_version", version_id=version_id),
            button=_("Retire version %(number)s", number=version.number),
            back=url_for("rubrics.index"),
            lines=[
                _(
                    "Tablets stop offering this version for new walkthroughs at their next "
                    "sync; they offer %(version)s instead.",
                    version=then,
                )
                if then
                else _(
                    "Tablets stop offering this version for new walkthroughs at their next "
                    "sync; no version of this rubric will be offered until one is loaded or "
                    "brought back."
                ),
                _(
                    "Drafts and amendments already begun on it are still accepted, and reports "
                    "keep counting its walkthroughs. You can bring it back at any time."
                ),
            ],
            cancel=_("Back to the rubrics"),
            danger=False,
        )
    )


@bp.post("/rubrics/<int:version_id>/retire")
@requires(access.MANAGE)
def retire_version(version_id: int) -> BaseResponse:
    begin_write()
    version = version_or_404(version_id)
    if not confirm.confirmed():
        return confirm.ask_first(url_for("rubrics.confirm_retire", version_id=version_id))
    if retire(version, current_user._get_current_object()):
        db.session.commit()
        flash(
            _(
                "Retired %(version)s: tablets no longer start walkthroughs on it.",
                version=version.label,
            ),
            "success",
        )
    else:
        flash(_("%(version)s was already retired.", version=version.label), "info")
    return redirect(url_for("rubrics.index"))


@bp.get("/rubrics/<int:version_id>/unretire")
@requires(access.MANAGE)
def confirm_unretire(version_id: int) -> str:
    version = version_or_404(version_id)
    return confirm.page(
        confirm.Confirmation(
            title=_("Offer %(version)s again?", version=version.label),
            action=url_for("rubrics.unretire_version", version_id=version_id),
            button=_("Offer version %(number)s again", number=version.number),
            back=url_for("rubrics.index"),
            lines=[
                _(
                    "Tablets offer the newest version of a rubric that is not retired: this "
                    "one, at their next sync."
                )
                if all(
                    v.number < version.number or v.retired
                    for v in version.rubric.versions
                    if v.id != version.id
                )
                else _(
                    "Tablets offer the newest version of a rubric that is not retired: a newer "
                    "version stays the one offered."
                ),
            ],
            cancel=_("Back to the rubrics"),
            danger=False,
        )
    )


@bp.post("/rubrics/<int:version_id>/unretire")
@requires(access.MANAGE)
def unretire_version(version_id: int) -> BaseResponse:
    begin_write()
    version = version_or_404(version_id)
    if not confirm.confirmed():
        return confirm.ask_first(url_for("rubrics.confirm_unretire", version_id=version_id))
    if unretire(version, current_user._get_current_object()):
        db.session.commit()
        flash(_("%(version)s is no longer retired.", version=version.label), "success")
    else:
        flash(_("%(version)s is not retired.", version=version.label), "info")
    return redirect(url_for("rubrics.index"))
