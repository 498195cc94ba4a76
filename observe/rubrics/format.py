"""The rubric file format (``observe-rubric/1``): parsing and validation, nothing else.

A rubric file is YAML. :func:`parse_rubric` turns its text into a normalised document (plain
JSON types, every default filled in) or raises :class:`RubricFileError` listing *every*
problem, each with the dotted path and line of the offending value, so a district can fix a
file in one pass. No Flask and no database here: ``operations.py`` stores what this returns.
See docs/rubric-format.md for the format itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import yaml
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from observe.core.validation import (
    Path,
    PathPart,
    Text,
    flatten_messages,
    format_path,
    text_problem,
)
from observe.errors import ProblemList, plural
from observe.rubrics import translations

FORMAT_ID = "observe-rubric/1"
DIMENSIONS = ("identity", "power", "access", "achievement")
KINDS = ("student", "adult")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")  # the whole value: matched with fullmatch
# What the database columns hold (models.py: keys String(100), titles and names String(200)),
# and sane bounds for text kept only in the JSON document. A level value is a rating's
# integer column; the bound keeps it far inside 32 bits on every database.
MAX_KEY = 100
MAX_NAME = 200
MAX_PROSE = 5000
MIN_LEVEL = -1000
MAX_LEVEL = 1000
# Nesting: a rubric file needs fewer than ten levels; PyYAML composes recursively, so a deep
# file would otherwise end in a RecursionError.
MAX_DEPTH = 50
MAX_NUMBER_CHARACTERS = 100


def N_(message: str) -> str:
    """Mark ``message`` for the catalog and return it as it is: marshmallow keeps these field
    messages from import time, and :func:`check_data` puts them in the reader's language."""
    return message


# marshmallow's own messages a rubric file can still meet (a field none of ours overrides).
_MARSHMALLOW_MESSAGES = (
    N_("Field may not be null."),
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid list."),
    N_("Not a valid boolean."),
    N_("Invalid input type."),
)


def _too_deep() -> str:
    return _(
        "the file is nested too deeply (more than %(depth)s levels of lists and mappings); "
        "a rubric needs fewer than ten",
        depth=MAX_DEPTH,
    )


class RubricFileError(ProblemList):
    """A rubric file that cannot be loaded; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        message = f"The rubric file has {plural(len(problems), 'problem')}; nothing was loaded."
        super().__init__(message, problems)


@dataclass(frozen=True)
class ParsedRubric:
    """A valid rubric file: its normalised document and where it came from."""

    document: dict[str, Any]
    source_name: str
    source_text: str

    @property
    def content_hash(self) -> str:
        return content_hash(self.document)

    @property
    def key(self) -> str:
        return self.document["key"]

    @property
    def title(self) -> str:
        return self.document["title"]


# --- YAML -------------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that a rubric file may not use."""


class RubricLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys instead of silently keeping the last.

    It also reads booleans the YAML 1.2 way (only true/false): under YAML 1.1 a level labelled
    ``No`` or ``Off`` would quietly become ``False``. Dates stay text, since no rubric field
    is a date and a date object cannot be stored as JSON.
    """

    yaml_implicit_resolvers = {
        first: [
            (tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (the repeated key's node, the first occurrence's node)
        self.duplicate_keys: list[tuple[ScalarNode, ScalarNode]] = []
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # Refused before anything is expanded: nine nested aliases of nine make a billion
        # values ("billion laughs"), and a rubric file has no use for them.
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise RefusedYAML(
                None,
                None,
                _(
                    "anchors and aliases (&%(anchor)s, *%(anchor)s) are not allowed in a "
                    "rubric file; write each value out",
                    anchor=event.anchor,
                ),
                event.start_mark,
            )
        if self.depth >= MAX_DEPTH:
            raise RefusedYAML(None, None, _too_deep(), event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, ScalarNode] = {}
        for key_node, _value in node.value:
            # Merge keys (<<) legitimately override; only plain scalar keys can clash.
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            if key_node.value in seen:
                self.duplicate_keys.append((key_node, seen[key_node.value]))
            else:
                seen[key_node.value] = key_node
        return super().construct_mapping(node, deep=deep)


RubricLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)


def _construct_int(loader: RubricLoader, node: ScalarNode) -> Any:
    # Python refuses to read a whole number of more than 4,300 digits (a ValueError, not a
    # YAML error); no rubric number comes near the limit set here.
    if len(node.value) > MAX_NUMBER_CHARACTERS:
        raise RefusedYAML(
            None,
            None,
            _(
                "a number of %(count)s characters; numbers in a rubric file have at most %(most)s",
                count=format(len(node.value), ","),
                most=MAX_NUMBER_CHARACTERS,
            ),
            node.start_mark,
        )
    return loader.construct_yaml_int(node)


RubricLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


# --- schemas: structure and types -----------------------------------------------------------


def _text(max_length: int, required: bool = True, **kwargs: Any) -> fields.Field:
    if not required:
        kwargs.setdefault("load_default", "")
    validators: list[Callable[[str], Any]] = [_at_most(max_length)]
    if required:
        validators.insert(0, validate.Length(min=1, error=N_("must not be empty")))
    return _StrippedString(
        required=required,
        error_messages={
            "required": N_("required key is missing"),
            "invalid": N_("must be text"),
            "null": N_("must not be empty"),
        },
        validate=validators,
        **kwargs,
    )


def _too_long(most: int, length: int) -> str:
    return _(
        "must be at most %(most)s characters; this is %(length)s",
        most=format(most, ","),
        length=format(length, ","),
    )


def _at_most(max_length: int) -> Callable[[str], None]:
    def check(text: str) -> None:
        if len(text) > max_length:
            raise ValidationError(_too_long(max_length, len(text)))

    return check


class _StrippedString(Text):
    # Folded YAML (>) adds a trailing newline; trimming keeps it out of the content hash.
    # Text (core.validation) refuses what no database can store (NUL, an unpaired surrogate).
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _is_slug(text: str) -> bool:
    return SLUG.fullmatch(text) is not None


def _slug() -> fields.Field:
    return fields.String(
        required=True,
        error_messages={"required": N_("required key is missing"), "invalid": N_("must be text")},
        validate=[_slug_check, _at_most(MAX_KEY)],
    )


def _slug_check(text: str) -> None:
    # fullmatch: "$" would also match before a trailing newline ("pg\n" is not a slug).
    if not _is_slug(text):
        raise ValidationError(
            _(
                "must be a slug of lowercase letters, digits and hyphens, "
                "starting with a letter or digit; got %(text)s",
                text=repr(text[: MAX_KEY + 20]),
            )
        )


def _language_check(code: str) -> None:
    if not translations.LANGUAGE.fullmatch(code):
        raise ValidationError(
            _(
                "must be a language code in lowercase letters, such as en, es or es-mx; "
                "got %(code)s",
                code=repr(code[:40]),
            )
        )


def _bool(default: bool | None) -> fields.Field:
    # No default (None) leaves the key out, so a criterion's scale override inherits it.
    kwargs: dict[str, Any] = {} if default is None else {"load_default": default}
    return fields.Boolean(
        **kwargs,
        truthy={True},
        falsy={False},
        error_messages={"invalid": N_("must be true or false")},
    )


def _list(
    inner: fields.Field,
    *,
    required: bool = True,
    empty: str | None = None,
    default: bool = True,
) -> fields.Field:
    kwargs: dict[str, Any] = {"required": required}
    if not required and default:
        kwargs["load_default"] = list
    if empty:
        kwargs["validate"] = validate.Length(min=1, error=empty)
    return fields.List(
        inner,
        error_messages={"required": N_("required key is missing"), "invalid": N_("must be a list")},
        **kwargs,
    )


def _nested(schema: type[Schema], *, required: bool = True, **kwargs: Any) -> fields.Field:
    return fields.Nested(
        schema,
        required=required,
        error_messages={"required": N_("required key is missing"), "null": N_("must not be empty")},
        **kwargs,
    )


class _Strict(Schema):
    class Meta:
        unknown = RAISE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = ", ".join(self.fields)
        # "{key}" is filled in by flatten_messages, which knows the offending key.
        self.error_messages = {
            **self.error_messages,
            "unknown": _("unknown key {key}; allowed keys here: %(allowed)s", allowed=allowed),
            "type": N_("must be a mapping of keys to values"),
        }


class _Descriptors(fields.Field):
    """``{level value: descriptor}``; whether each value is on the scale is checked later."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError(_("must be a mapping of level values to descriptors"))
        errors: dict[Any, list[str]] = {}
        result: dict[str, str] = {}
        for level, text in value.items():
            if not _is_int(level):
                errors[level] = [
                    _(
                        "descriptor keys must be level values (whole numbers); got %(level)s",
                        level=repr(level),
                    )
                ]
            elif not MIN_LEVEL <= level <= MAX_LEVEL:
                errors[level] = [_level_range()]
            elif not isinstance(text, str) or not text.strip():
                errors[level] = [_("must be non-empty text")]
            elif problem := text_problem(text):
                errors[level] = [problem]
            elif len(text.strip()) > MAX_PROSE:
                errors[level] = [_too_long(MAX_PROSE, len(text.strip()))]
            else:
                result[str(level)] = text.strip()
        if errors:
            raise ValidationError(errors)
        return result


def _level_range() -> str:
    return _(
        "a level value must be a whole number from %(low)s to %(high)s",
        low=MIN_LEVEL,
        high=MAX_LEVEL,
    )


def _level_value(value: int) -> None:
    if not MIN_LEVEL <= value <= MAX_LEVEL:
        raise ValidationError(
            _(
                "a level value must be a whole number from %(low)s to %(high)s; got %(value)s",
                low=MIN_LEVEL,
                high=MAX_LEVEL,
                value=value,
            )
        )


def _one_of(choices: Sequence[str], message: Callable[[str], str]) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in choices:
            raise ValidationError(message(repr(value)))

    return check


class LevelSchema(_Strict):
    value = fields.Integer(
        required=True,
        strict=True,
        error_messages={
            "required": N_("required key is missing"),
            "invalid": N_("must be a whole number"),
        },
        validate=_level_value,
    )
    label = _text(MAX_NAME)
    descriptor = _text(MAX_PROSE, required=False)


class ScaleSchema(_Strict):
    not_observed = _bool(True)
    levels = _list(_nested(LevelSchema))


class CriterionScaleSchema(_Strict):
    not_observed = _bool(None)
    levels = _list(_nested(LevelSchema), required=False, default=False)


class ContextFieldSchema(_Strict):
    key = _slug()
    label = _text(MAX_NAME)
    options = _list(_text(MAX_NAME), empty=N_("must list at least one option"))
    multiple = _bool(False)
    required = _bool(False)


class GlossaryEntrySchema(_Strict):
    term = _text(MAX_NAME)
    definition = _text(MAX_PROSE)


_dimension = fields.String(
    error_messages={"invalid": N_("must be text")},
    validate=_one_of(
        DIMENSIONS,
        lambda got: _(
            "unknown equity dimension %(got)s; use %(choices)s",
            got=got,
            choices=", ".join(DIMENSIONS),
        ),
    ),
)


class CriterionSchema(_Strict):
    key = _slug()
    kind = fields.String(
        required=True,
        error_messages={"required": N_("required key is missing"), "invalid": N_("must be text")},
        validate=_one_of(KINDS, lambda got: _("must be student or adult; got %(got)s", got=got)),
    )
    text = _text(MAX_PROSE)
    dimensions = _list(_dimension, empty=N_("must list at least one equity dimension"))
    evidence_prompt = _text(MAX_PROSE, required=False)
    descriptors = _Descriptors(load_default=dict)
    scale = _nested(CriterionScaleSchema, required=False, load_default=dict)
    required = _bool(None)
    # The key of the look-for of the previous version this one continues (observe.rubrics.lineage).
    continues = fields.String(
        error_messages={"invalid": N_("must be text")}, validate=[_slug_check, _at_most(MAX_KEY)]
    )

    @post_load
    def _drop_default_required(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Kept only when true: a file that never says ``required`` (every file written before
        # it existed) and one that writes out ``required: false`` have the same content hash.
        if data.get("required") is False:
            del data["required"]
        return data


class CompetencySchema(_Strict):
    key = _slug()
    name = _text(MAX_NAME)
    description = _text(MAX_PROSE, required=False)
    criteria = _list(_nested(CriterionSchema), empty=N_("must list at least one criterion"))


class RubricSchema(_Strict):
    format = fields.String(
        required=True,
        error_messages={
            "required": N_(
                "required key is missing; the first line should be: format: observe-rubric/1"
            ),
            "invalid": N_("must be text"),
        },
        validate=_one_of(
            (FORMAT_ID,),
            lambda got: _("must be exactly %(format)s; got %(got)s", format=FORMAT_ID, got=got),
        ),
    )
    key = _slug()
    # Optional, and left out of the document when the file leaves it out: a file without it
    # keeps its content hash (observe.rubrics.translations).
    languages = fields.List(
        fields.String(error_messages={"invalid": N_("must be text")}, validate=_language_check),
        validate=validate.Length(min=1, error=N_("must list at least one language")),
        error_messages={"invalid": N_("must be a list")},
    )
    title = _text(MAX_NAME)
    description = _text(MAX_PROSE, required=False)
    scale = _nested(ScaleSchema)
    context_fields = _list(_nested(ContextFieldSchema), required=False)
    glossary = _list(_nested(GlossaryEntrySchema), required=False)
    competencies = _list(_nested(CompetencySchema), empty=N_("must list at least one competency"))


# --- paths and lines --------------------------------------------------------------------------


def node_at(root: Node, path: Sequence[PathPart]) -> Node:
    """The YAML node at ``path``, or the deepest ancestor that exists (for missing keys)."""
    node = root
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return node


def _child(node: Node, part: PathPart) -> Node | None:
    if isinstance(node, SequenceNode) and isinstance(part, int):
        return node.value[part] if 0 <= part < len(node.value) else None
    if isinstance(node, MappingNode):
        match = None
        # The last occurrence wins, as it does in the constructed data.
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                match = value_node
        return match
    return None


def _path_to(root: Node, target: Node) -> Path | None:
    """The path of the mapping value whose *key* node is ``target`` (for duplicate keys)."""
    stack: list[tuple[Node, Path]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else "?"
                if key_node is target:
                    return (*path, key)
                stack.append((value_node, (*path, key)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


# --- the domain rules marshmallow cannot express ---------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _items(data: Any, key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """The mappings in ``data[key]``; anything malformed was already reported by the schema."""
    if isinstance(data, Mapping) and isinstance(data.get(key), list):
        for i, item in enumerate(data[key]):
            if isinstance(item, Mapping):
                yield i, item


def _check_levels(scale: Any, path: Path, required: bool) -> list[tuple[Path, str]]:
    if not isinstance(scale, Mapping) or not isinstance(scale.get("levels"), list):
        return []
    levels = scale["levels"]
    problems: list[tuple[Path, str]] = []
    if len(levels) < 2 and (required or "levels" in scale):
        problems.append(
            (
                (*path, "levels"),
                _("a scale needs at least 2 levels; found %(count)s", count=len(levels)),
            )
        )
    previous: int | None = None
    labels: dict[str, int] = {}
    for i, level in _items(scale, "levels"):
        value = level.get("value")
        if _is_int(value):
            if previous is not None and value == previous:
                problems.append(
                    (
                        (*path, "levels", i, "value"),
                        _("level value %(value)s is repeated", value=value),
                    )
                )
            elif previous is not None and value < previous:
                problems.append(
                    (
                        (*path, "levels", i, "value"),
                        _(
                            "levels must be listed lowest first with increasing values; "
                            "%(value)s follows %(previous)s",
                            value=value,
                            previous=previous,
                        ),
                    )
                )
            previous = value
        label = level.get("label")
        if isinstance(label, str) and label.strip():
            folded = label.strip().casefold()
            if folded in labels:
                problems.append(
                    (
                        (*path, "levels", i, "label"),
                        _(
                            "label %(label)s is already used by levels[%(index)s]",
                            label=repr(label.strip()),
                            index=labels[folded],
                        ),
                    )
                )
            else:
                labels[folded] = i
    return problems


def _scale_values(scale: Any) -> list[int] | None:
    if not isinstance(scale, Mapping) or not isinstance(scale.get("levels"), list):
        return None
    values = [
        level.get("value") if isinstance(level, Mapping) else None for level in scale["levels"]
    ]
    levels = [v for v in values if _is_int(v) and MIN_LEVEL <= v <= MAX_LEVEL]
    # A scale with a malformed level (already reported) cannot say which values exist.
    return levels if len(levels) == len(values) else None


def _domain_problems(
    data: Mapping[str, Any], where: Callable[[Path], str]
) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []

    def repeated(seen: dict[str, Path], name: str, path: Path, field: str, what: str) -> None:
        """Record ``name`` at ``path``; report it when an earlier entry already used it."""
        if name not in seen:
            seen[name] = path
            return
        problems.append(
            (
                (*path, field),
                _("%(what)s; first used at %(where)s", what=what, where=where(seen[name])),
            )
        )

    # Descriptors are checked only against a scale that is itself sound; otherwise the one
    # scale mistake would be reported again on every criterion.
    scale_problems = _check_levels(data.get("scale"), ("scale",), required=True)
    problems += scale_problems
    rubric_values = None if scale_problems else _scale_values(data.get("scale"))

    context_keys: dict[str, Path] = {}
    for i, field in _items(data, "context_fields"):
        path: Path = ("context_fields", i)
        key = field.get("key")
        if isinstance(key, str):
            repeated(
                context_keys,
                key,
                path,
                "key",
                _("context field key %(key)s is repeated", key=repr(key)),
            )
        options = field.get("options")
        if isinstance(options, list):
            seen_options: set[str] = set()
            for j, option in enumerate(options):
                if not isinstance(option, str) or not option.strip():
                    continue
                if option.strip() in seen_options:
                    problems.append(
                        (
                            (*path, "options", j),
                            _("option %(option)s is listed twice", option=repr(option.strip())),
                        )
                    )
                seen_options.add(option.strip())

    terms: dict[str, Path] = {}
    for i, entry in _items(data, "glossary"):
        term = entry.get("term")
        if isinstance(term, str) and term.strip():
            repeated(
                terms,
                term.strip().casefold(),
                ("glossary", i),
                "term",
                _("term %(term)s is defined twice", term=repr(term.strip())),
            )

    competency_keys: dict[str, Path] = {}
    criterion_keys: dict[str, Path] = {}
    for i, competency in _items(data, "competencies"):
        cpath: Path = ("competencies", i)
        key = competency.get("key")
        if isinstance(key, str):
            repeated(
                competency_keys,
                key,
                cpath,
                "key",
                _("competency key %(key)s is repeated", key=repr(key)),
            )
        for j, criterion in _items(competency, "criteria"):
            path = (*cpath, "criteria", j)
            key = criterion.get("key")
            if isinstance(key, str):
                repeated(
                    criterion_keys,
                    key,
                    path,
                    "key",
                    _(
                        "criterion key %(key)s is repeated (keys must be unique across the rubric)",
                        key=repr(key),
                    ),
                )
            dimensions = criterion.get("dimensions")
            if isinstance(dimensions, list):
                seen_dims: set[str] = set()
                for d, dimension in enumerate(dimensions):
                    if not isinstance(dimension, str):
                        continue
                    if dimension in seen_dims:
                        problems.append(
                            (
                                (*path, "dimensions", d),
                                _("%(value)s is listed twice", value=repr(dimension)),
                            )
                        )
                    seen_dims.add(dimension)
            override = criterion.get("scale")
            override_problems = _check_levels(override, (*path, "scale"), required=False)
            problems += override_problems
            if isinstance(override, Mapping) and "levels" in override:
                values = None if override_problems else _scale_values(override)
            else:
                values = rubric_values
            descriptors = criterion.get("descriptors")
            if values is None or not isinstance(descriptors, Mapping):
                continue
            for level in descriptors:
                if _is_int(level) and MIN_LEVEL <= level <= MAX_LEVEL and level not in values:
                    listed = ", ".join(str(v) for v in values)
                    problems.append(
                        (
                            (*path, "descriptors", level),
                            _(
                                "%(level)s is not a level value on this criterion's scale "
                                "(%(listed)s)",
                                level=level,
                                listed=listed,
                            ),
                        )
                    )
    return problems


# --- the whole file ---------------------------------------------------------------------------


def _not_yaml(source_name: str, problem: str) -> str:
    return f"{source_name}: " + _("not valid YAML: %(problem)s", problem=problem)


def _problem(
    source_name: str, path: str, line: int, message: str, column: int | None = None
) -> str:
    if column is None:
        at = _("line %(line)s", line=line)
    else:
        at = _("line %(line)s, column %(column)s", line=line, column=column)
    return f"{source_name}: {path} ({at}): {message}" if path else f"{source_name}: {at}: {message}"


def parse_rubric(text: str, source_name: str) -> ParsedRubric:
    """Validate a rubric file's text; return it normalised or raise :class:`RubricFileError`."""
    loader = RubricLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or _("unreadable YAML")
        if mark is None:
            raise RubricFileError([_not_yaml(source_name, problem)]) from None
        message = (
            problem
            if isinstance(error, RefusedYAML)
            else _("not valid YAML: %(problem)s", problem=problem)
        )
        raise RubricFileError(
            [_problem(source_name, "", mark.line + 1, message, mark.column + 1)]
        ) from None
    except yaml.YAMLError as error:
        raise RubricFileError([_not_yaml(source_name, str(error))]) from None
    except RecursionError:  # MAX_DEPTH is meant to stop this first; never a 500 either way
        raise RubricFileError([f"{source_name}: {_too_deep()}"]) from None
    finally:
        loader.dispose()

    if root is None or data is None:
        raise RubricFileError(
            [
                f"{source_name}: "
                + _(
                    "the file is empty; a rubric file starts with: format: %(format)s",
                    format=FORMAT_ID,
                )
            ]
        )
    if not isinstance(data, dict):
        if isinstance(data, list):
            found = _("a list")
        else:
            found = _("the single value %(value)s", value=repr(data))
        message = _(
            "a rubric file must be a mapping of keys (format, key, title, scale, "
            "competencies, …); this one holds %(found)s",
            found=found,
        )
        raise RubricFileError([_problem(source_name, "", _line(root), message)])

    problems: list[tuple[Path, str]] = []
    for repeated, first in loader.duplicate_keys:
        path = _path_to(root, repeated) or (repeated.value,)
        problems.append(
            (
                path,
                _(
                    "key %(key)s appears twice in the same mapping (first on line %(line)s); "
                    "remove one",
                    key=repr(repeated.value),
                    line=_line(first),
                ),
            )
        )
    document, schema_problems = check_data(
        data,
        lambda path: (
            f"{format_path(path)} (" + _("line %(line)s", line=_line(node_at(root, path))) + ")"
        ),
    )
    problems += schema_problems

    if problems:
        located = sorted(
            {(_line(node_at(root, path)), format_path(path), message) for path, message in problems}
        )
        raise RubricFileError(
            [_problem(source_name, path, line, message) for line, path, message in located]
        )
    assert document is not None
    return ParsedRubric(document=document, source_name=source_name, source_text=text)


def check_data(
    data: Mapping[str, Any], where: Callable[[Path], str], *, localize: bool = True
) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    """Validate rubric data however it was read (a YAML file, a spreadsheet).

    Returns the normalised document, or None and every ``(path, message)`` problem.
    ``where(path)`` names an earlier entry for messages such as "first used at …".
    The messages are in the reader's language; with ``localize=False`` those of the fields
    (marked ``N_``) stay in English, for a caller that recognises them first (spreadsheet.py).
    """
    document: dict[str, Any] | None = None
    # Text in several languages is checked, then set aside: the rules below see the text in
    # the file's default language, as they would in a file with no translations.
    data, found, problems = translations.split(data)
    problems += translations.language_problems(data)
    try:
        document = RubricSchema().load(data)
    except ValidationError as error:
        # The fields' messages were marked (N_) at import time; each is put in the reader's
        # language here. The validators' own messages are built in it already.
        problems += [
            (path, _(message) if localize else message)
            for path, message in flatten_messages(error.messages)
        ]
    problems += _domain_problems(data, where)
    if problems or document is None:
        return None, problems
    translations.attach(document, found)
    return document, problems


# --- identity ---------------------------------------------------------------------------------


def canonical_json(document: Mapping[str, Any]) -> str:
    """The one text a document has: sorted keys, no whitespace, UTF-8 left as is."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON: comment or whitespace edits do not make a new version."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def effective_scale(
    document: Mapping[str, Any], criterion: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], bool]:
    """A criterion's levels (its own descriptors substituted) and whether it allows not observed."""
    override = criterion.get("scale") or {}
    scale = document["scale"]
    levels = override.get("levels", scale["levels"])
    not_observed = override.get("not_observed", scale["not_observed"])
    descriptors = criterion.get("descriptors") or {}
    effective = [
        {
            "value": level["value"],
            "label": level["label"],
            "descriptor": descriptors.get(str(level["value"]), level["descriptor"]),
        }
        for level in levels
    ]
    return effective, bool(not_observed)
