"""``awsglue.dynamicframe``: :class:`DynamicFrame` and :class:`DynamicFrameCollection` on plain PySpark.

Written from AWS's documentation of the Python ``DynamicFrame`` class
(https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html),
its Scala twin (``glue-etl-scala-apis-glue-dynamicframe-class.html``), the transform pages and
the examples in the developer guide.

A frame here is a Spark ``DataFrame`` plus the *choice types* a reader found: ``choices`` maps a
top-level column to the Glue type names its values were seen with (``("long", "string")``); such
a column holds each value's raw text. Every transform except ``map``, ``filter`` and
``relationalize`` is a single ``select`` over the DataFrame, so a DynamicFrame pipeline costs what
the same PySpark does. ``map``/``filter`` run the Python function on each record (an RDD pass);
a record whose function raises becomes an *error record* (see :meth:`DynamicFrame.errorsAsDynamicFrame`)
instead of failing the job, unless ``stageThreshold``/``totalThreshold`` (0: no limit) are exceeded.

Paths name nested fields with dots (``"address.state"``); a name containing dots is quoted with
backticks (``"`this.old.name`"``); a path may go through arrays of structs (``"friends.age"``,
or ``"friends[].age"`` as ``resolveChoice`` writes it). A path that names no field is ignored
with a warning, as Glue ignores fields no record has.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from functools import reduce
from typing import Any

from pyspark import StorageLevel, cloudpickle
from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.types import _parse_datatype_string

from awsglue import gluetypes
from awsglue._unsupported import unsupported

PAGE = "aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html"

logger = logging.getLogger(__name__)

# map/filter ship this module's functions to Python workers by value, so the workers need not be
# able to import awsglue (a SparkSession created before local_runtime was on PYTHONPATH).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: The schema of an error record: what ``errorsAsDynamicFrame()`` returns.
ERROR_FIELDS = ("msg", "stackTrace", "transformation", "info", "transformation_ctx", "input")
ERROR_SCHEMA = T.StructType(
    [T.StructField("error", T.StructType([T.StructField(name, T.StringType()) for name in ERROR_FIELDS]))]
)


class ErrorThresholdExceeded(RuntimeError):
    """More error records than a transform's ``stageThreshold`` or ``totalThreshold`` allows."""


# --------------------------------------------------------------------------------------------
# Paths and type names
# --------------------------------------------------------------------------------------------


def _parse_path(path: str) -> list[str]:
    """``"a.`b.c`.d"`` -> ``["a", "b.c", "d"]``; an unquoted ``name[]`` (an array) -> ``name``."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"a field path must be a non-empty string, not {path!r}")
    segments: list[str] = []
    buf: list[str] = []
    quoted = in_ticks = False
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "`" and in_ticks and path[i + 1 : i + 2] == "`":
            buf.append("`")
            i += 1
        elif ch == "`":
            in_ticks, quoted = not in_ticks, True
        elif ch == "." and not in_ticks:
            segments.append(_segment(buf, quoted, path))
            buf, quoted = [], False
        else:
            buf.append(ch)
        i += 1
    if in_ticks:
        raise ValueError(f"unbalanced backtick in field path {path!r}")
    segments.append(_segment(buf, quoted, path))
    return segments


def _segment(buf: list[str], quoted: bool, path: str) -> str:
    name = "".join(buf)
    if not quoted and name.endswith("[]"):
        name = name[:-2]
    if not name:
        raise ValueError(f"empty field name in path {path!r}")
    return name


def _quote(name: str) -> str:
    """``name`` as a Spark column reference (backticks keep its dots)."""
    return "`" + name.replace("`", "``") + "`"


def _as_list(paths: str | Iterable[str]) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


_INTEGRAL = {"byte": T.ByteType(), "short": T.ShortType(), "int": T.IntegerType(), "long": T.LongType()}
_INT_BITS_OF = {"byte": 8, "short": 16, "int": 32, "long": 64}
_INT_BITS = tuple((_INT_BITS_OF[name], spark_type) for name, spark_type in _INTEGRAL.items())
_TYPE_NAMES: dict[str, T.DataType] = {
    **_INTEGRAL,
    "tinyint": T.ByteType(),
    "smallint": T.ShortType(),
    "integer": T.IntegerType(),
    "bigint": T.LongType(),
    "boolean": T.BooleanType(),
    "float": T.FloatType(),
    "double": T.DoubleType(),
    "decimal": T.DecimalType(10, 2),
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "binary": T.BinaryType(),
    "null": T.NullType(),
}
#: Type names that keep a value's own (nested) type rather than cast it.
_NO_CAST = {"struct", "array", "map", "choice"}
_DECIMAL = re.compile(r"decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_CHAR = re.compile(r"(var)?char\s*\(\s*\d+\s*\)")


def _spark_type(name: str) -> T.DataType | None:
    """The Spark type of a Glue or Hive type name (any case); None for struct/array/map/choice.

    :raises ValueError: for a name that is no type.
    """
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in _TYPE_NAMES:
        return _TYPE_NAMES[key]
    if key in _NO_CAST:
        return None
    if match := _DECIMAL.fullmatch(key):
        return T.DecimalType(int(match[1]), int(match[2]))
    if _CHAR.fullmatch(key):
        return T.StringType()
    if "<" in key:
        try:
            return _parse_datatype_string(_CHAR.sub("string", key))
        except Exception as exc:
            raise ValueError(f"unknown type {name!r}") from exc
    raise ValueError(f"unknown type {name!r}")


def _glue_name(data_type: T.DataType) -> str:
    return gluetypes.from_spark(data_type).glue_name()


# --------------------------------------------------------------------------------------------
# Choice columns: raw text + the Glue type names seen
# --------------------------------------------------------------------------------------------

#: The order in which a raw value is tried against a choice's types: the narrowest first.
_SPECIFICITY = ("boolean", "byte", "short", "int", "long", "float", "double", "decimal", "date", "timestamp")
_INT_TEXT = r"^\s*[+-]?\d+\s*$"
_DATE_TEXT = r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$"


def _by_specificity(types: Iterable[str]) -> list[str]:
    order = {name: i for i, name in enumerate(_SPECIFICITY)}
    return sorted(types, key=lambda t: order.get(t, len(order)))


def _choice_member_type(name: str) -> T.DataType:
    spark_type = _spark_type(name) if name not in _NO_CAST else None
    if spark_type is None:
        raise unsupported("DynamicFrame choice types", PAGE, f"resolving a choice with a {name!r} member")
    return spark_type


def _is_member(text: Column, name: str) -> Column:
    """Whether the raw ``text`` reads as a value of the Glue type ``name``."""
    if name == "boolean":
        return F.lower(F.trim(text)).isin("true", "false")
    if name in _INTEGRAL:
        return text.rlike(_INT_TEXT) & F.trim(text).cast(_INTEGRAL[name]).isNotNull()
    if name in ("float", "double", "decimal"):
        return F.trim(text).cast(T.DoubleType()).isNotNull()
    if name == "date":
        return text.rlike(_DATE_TEXT) & F.trim(text).cast(T.DateType()).isNotNull()
    if name == "timestamp":
        return F.trim(text).cast(T.TimestampType()).isNotNull()
    return F.lit(True)


def _cast_text(text: Column, spark_type: T.DataType | None) -> Column:
    if spark_type is None or isinstance(spark_type, T.StringType):
        return text
    return F.trim(text).cast(spark_type)


def _choice_value(text: Column, types: tuple[str, ...], name: str) -> Column:
    """The value of ``text`` where it is of type ``name`` (the first of ``types`` it reads as), else null."""
    spark_type = _choice_member_type(name)
    earlier: list[Column] = []
    for candidate in _by_specificity(types):
        if candidate == name:
            is_it = reduce(lambda a, b: a & ~b, earlier, _is_member(text, name))
            return F.when(is_it, _cast_text(text, spark_type))
        earlier.append(_is_member(text, candidate))
    return F.lit(None).cast(spark_type)


def _choice_struct(text: Column, types: tuple[str, ...]) -> Column:
    """A choice as Glue's make_struct (and toDF) give it: one field per type, named by the type."""
    fields = [_choice_value(text, types, name).alias(name) for name in types]
    return F.when(text.isNull(), F.lit(None)).otherwise(F.struct(*fields))


# Python-side twins of the above, for the records map/filter hand to Python functions.


def _py_choice_value(text: str | None, types: tuple[str, ...]) -> Any:
    if text is None:
        return None
    s = text.strip()
    for name in _by_specificity(types):
        try:
            if name == "boolean" and s.lower() in ("true", "false"):
                return s.lower() == "true"
            if name in _INTEGRAL and re.fullmatch(r"[+-]?\d+", s):
                if _node(int(s)) <= ("int", _INT_BITS_OF[name]):
                    return int(s)
            elif name in ("float", "double") and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
                return float(s)
            elif name == "decimal" and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
                return Decimal(s)
            elif name == "date" and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", s):
                return dt.date(*map(int, s.split("-")))
            elif name == "timestamp":
                return dt.datetime.fromisoformat(s)
            elif name not in _SPECIFICITY:
                return text
        except (ValueError, TypeError, InvalidOperation):
            continue
    return None


class DynamicRecord(dict):
    """A record as ``map`` and ``filter`` functions see it: a dict of field name to value.

    Nested structs are DynamicRecords too, arrays are lists; a choice field holds the value as
    the type it was read as (``123`` or ``"abc"``). Set, change or ``del`` fields and return the
    record (or a new dict) from a ``map`` function.
    """


def _to_record(value: Any, choices: dict[str, tuple[str, ...]] | None = None) -> Any:
    if isinstance(value, Row):
        record = DynamicRecord()
        for name, field_value in value.asDict().items():
            if choices and name in choices:
                record[name] = _py_choice_value(field_value, choices[name])
            else:
                record[name] = _to_record(field_value)
        return record
    if isinstance(value, list):
        return [_to_record(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_record(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    """``value`` as plain dicts, lists and scalars (what a map function's result is stored as)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, Decimal, dt.date, bytes, bytearray)):
        return value
    raise TypeError(f"a record cannot hold a value of type {type(value).__name__}: {value!r}")


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def _error_row(exc: BaseException, row: Row, choices: dict, transformation: str, info: str, ctx: str) -> tuple:
    """An error record (see :data:`ERROR_SCHEMA`) for ``row``, on which the function raised ``exc``."""
    record = json.dumps(_to_record(row, choices), default=_json_default, ensure_ascii=False)
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ((f"{type(exc).__name__}: {exc}", trace, transformation, info or "", ctx or "", record),)


# Type inference of map results: a small type tree per record, merged over all records.
#   ("null",) ("bool",) ("int", bits) ("float",) ("decimal",) ("str",) ("bytes",) ("date",)
#   ("timestamp",) ("struct", {name: node}) ("array", node) ("choice", frozenset(glue names))
#   ("conflict", frozenset(kinds))

_KIND_NAMES = {"int": "long", "float": "double", "str": "string", "bool": "boolean", "bytes": "binary"}


def _node(value: Any) -> tuple:
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool",)
    if isinstance(value, int):
        for bits, _ in _INT_BITS:
            if -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
                return ("int", bits)
        raise TypeError(f"the integer {value} does not fit in a long")
    if isinstance(value, float):
        return ("float",)
    if isinstance(value, Decimal):
        return ("decimal",)
    if isinstance(value, str):
        return ("str",)
    if isinstance(value, (bytes, bytearray)):
        return ("bytes",)
    if isinstance(value, dt.datetime):
        return ("timestamp",)
    if isinstance(value, dt.date):
        return ("date",)
    if isinstance(value, dict):
        return ("struct", {k: _node(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("array", reduce(_merge_elements, map(_node, value), ("null",)))
    raise TypeError(f"a record cannot hold a value of type {type(value).__name__}: {value!r}")


def _choice_name(value: Any, types: tuple[str, ...]) -> str:
    """The Glue type name of a map result's ``value`` in a field that was ``choice(types)``."""
    kind = _node(value)[0]
    if kind == "int":
        return next((t for t in types if t in _INTEGRAL), "long")
    if kind == "float":
        return next((t for t in types if t in ("double", "float", "decimal")), "double")
    return _KIND_NAMES.get(kind, kind)


def _record_node(record: dict, choices: dict[str, tuple[str, ...]]) -> tuple:
    fields = {}
    for name, value in record.items():
        if name in choices:
            fields[name] = ("choice", frozenset() if value is None else frozenset([_choice_name(value, choices[name])]))
        else:
            fields[name] = _node(value)
    return ("struct", fields)


def _kinds(node: tuple) -> frozenset:
    return node[1] if node[0] == "conflict" else frozenset([_KIND_NAMES.get(node[0], node[0])])


def _merge(a: tuple, b: tuple) -> tuple:
    if a[0] == "null":
        return b
    if b[0] == "null":
        return a
    if a[0] == b[0]:
        if a[0] == "int":
            return ("int", max(a[1], b[1]))
        if a[0] == "struct":
            fields = dict(a[1])
            for name, node in b[1].items():
                fields[name] = _merge(fields[name], node) if name in fields else node
            return ("struct", fields)
        if a[0] == "array":
            return ("array", _merge_elements(a[1], b[1]))
        if a[0] in ("choice", "conflict"):
            return (a[0], a[1] | b[1])
        return a
    numeric = {a[0], b[0]}
    if numeric <= {"int", "float", "decimal"}:
        return ("float",) if "float" in numeric else ("decimal",)
    return ("conflict", _kinds(a) | _kinds(b))


def _merge_elements(a: tuple, b: tuple) -> tuple:
    """Array elements of scalar types that differ are strings (as in AWS's map example: ``element: string``)."""
    merged = _merge(a, b)
    if merged[0] == "conflict" and not merged[1] & {"struct", "array", "choice"}:
        return ("str",)
    return merged


def _node_type(node: tuple, hint: T.DataType | None, path: str, conflicts: list[str]) -> T.DataType:
    """The Spark type of a merged ``node``; ``hint`` (the input's type) is kept where values fit it."""
    kind = node[0]
    if kind == "conflict":
        conflicts.append(f"{path!r} ({', '.join(sorted(node[1]))})")
        return T.NullType()
    if kind == "null":
        return hint or T.NullType()
    if kind == "int":
        hint_bits = next((bits for bits, t in _INT_BITS if t == hint), 0)
        return hint if hint_bits >= node[1] else T.LongType()
    if kind == "float":
        return hint if isinstance(hint, (T.FloatType, T.DoubleType)) else T.DoubleType()
    if kind == "decimal":
        return hint if isinstance(hint, T.DecimalType) else T.DecimalType(38, 18)
    if kind == "struct":
        if isinstance(hint, T.MapType):
            values = reduce(_merge, node[1].values(), ("null",))
            return T.MapType(hint.keyType, _node_type(values, hint.valueType, f"{path}.value", conflicts))
        hints = {f.name: f.dataType for f in hint.fields} if isinstance(hint, T.StructType) else {}
        return T.StructType(
            [
                T.StructField(name, _node_type(child, hints.get(name), f"{path}.{name}", conflicts))
                for name, child in node[1].items()
            ]
        )
    if kind == "array":
        element = hint.elementType if isinstance(hint, T.ArrayType) else None
        return T.ArrayType(_node_type(node[1], element, f"{path}[]", conflicts))
    return {
        "bool": T.BooleanType(),
        "str": T.StringType(),
        "bytes": T.BinaryType(),
        "date": T.DateType(),
        "timestamp": hint if isinstance(hint, T.TimestampNTZType) else T.TimestampType(),
    }[kind]


def _conform(value: Any, data_type: T.DataType) -> Any:
    """``value`` as Spark's ``createDataFrame`` takes it for ``data_type``."""
    if value is None:
        return None
    if isinstance(data_type, T.StructType):
        return tuple(_conform(value.get(f.name), f.dataType) for f in data_type.fields)
    if isinstance(data_type, T.ArrayType):
        return [_conform(v, data_type.elementType) for v in value]
    if isinstance(data_type, T.MapType):
        return {k: _conform(v, data_type.valueType) for k, v in value.items()}
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        return float(value)
    if isinstance(data_type, T.DecimalType):
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if isinstance(data_type, T.StringType) and not isinstance(value, str):
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return value


# --------------------------------------------------------------------------------------------
# Rewriting a schema with one select
# --------------------------------------------------------------------------------------------

#: A leaf action: (the field's column, the field) -> the columns (aliased) that replace it.
Action = Callable[[Column, T.StructField], list[Column]]


def _drop(_column: Column, _field: T.StructField) -> list[Column]:
    return []


def _keep(column: Column, field: T.StructField) -> list[Column]:
    return [column.alias(field.name)]


def _find_field(struct: T.StructType, name: str, case_sensitive: bool = True) -> T.StructField | None:
    field = next((f for f in struct.fields if f.name == name), None)
    if field is None and not case_sensitive:
        matches = [f for f in struct.fields if f.name.lower() == name.lower()]
        field = matches[0] if len(matches) == 1 else None
    return field


def _resolve(
    schema: T.StructType, segments: list[str], case_sensitive: bool = True
) -> tuple[list[str], bool, T.DataType] | None:
    """The actual field names along ``segments``, whether the path goes into an array, the field's type."""
    names: list[str] = []
    in_array = False
    data_type: T.DataType = schema
    for segment in segments:
        while isinstance(data_type, T.ArrayType):
            data_type, in_array = data_type.elementType, True
        field = _find_field(data_type, segment, case_sensitive) if isinstance(data_type, T.StructType) else None
        if field is None:
            return None
        names.append(field.name)
        data_type = field.dataType
    return names, in_array, data_type


def _tree(items: Iterable[tuple[list[str], Action]]) -> dict:
    """A tree of field names with an action at each leaf; an action on a struct covers its fields."""
    tree: dict = {}
    for names, action in items:
        node = tree
        for name in names[:-1]:
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[names[-1]] = action
    return tree


def _rewrite(parent: Column | None, struct: T.StructType, tree: dict, keep_unlisted: bool) -> list[Column]:
    """The columns that rebuild ``struct`` with ``tree``'s actions; unlisted fields kept or left out."""
    columns: list[Column] = []
    for field in struct.fields:
        column = F.col(_quote(field.name)) if parent is None else parent.getField(field.name)
        node = tree.get(field.name)
        if node is None:
            if keep_unlisted:
                columns.append(column.alias(field.name))
        elif callable(node):
            columns.extend(node(column, field))
        else:
            nested = _rewrite_nested(column, field.dataType, node, keep_unlisted)
            if nested is not None:
                columns.append(nested.alias(field.name))
    return columns


def _rewrite_nested(column: Column, data_type: T.DataType, tree: dict, keep_unlisted: bool) -> Column | None:
    """``column`` rebuilt with ``tree``; None when nothing of it is left (Glue then drops the field)."""
    if isinstance(data_type, T.StructType):
        fields = _rewrite(column, data_type, tree, keep_unlisted)
        return F.when(column.isNull(), F.lit(None)).otherwise(F.struct(*fields)) if fields else None
    if isinstance(data_type, T.ArrayType):
        kept: list[bool] = []

        def element(x: Column) -> Column:
            rebuilt = _rewrite_nested(x, data_type.elementType, tree, keep_unlisted)
            kept.append(rebuilt is not None)
            return x if rebuilt is None else rebuilt

        transformed = F.transform(column, element)
        return transformed if kept[0] else None
    return column if keep_unlisted else None


def _column(names: list[str]) -> Column:
    """The column at a resolved path of struct fields."""
    return reduce(lambda c, name: c.getField(name), names[1:], F.col(_quote(names[0])))


def _flatten(column: Column, data_type: T.DataType, name: str) -> list[Column]:
    """Struct fields as top-level columns named with dots (``address.state``), as ``unnest`` makes them."""
    if not isinstance(data_type, T.StructType):
        return [column.alias(name)]
    return [c for f in data_type.fields for c in _flatten(column.getField(f.name), f.dataType, f"{name}.{f.name}")]


# --------------------------------------------------------------------------------------------
# DynamicFrame
# --------------------------------------------------------------------------------------------


class DynamicFrame:
    """A Glue DynamicFrame: a Spark ``DataFrame`` plus the choice types of its top-level columns.

    :param df: the records.
    :param glue_ctx: the GlueContext (anything with ``spark_session``; ``resolveChoice``'s
        ``match_catalog`` calls its ``catalog_columns(database, table_name, catalog_id)``).
    :param name: the frame's name.
    :param choices: top-level columns of choice type: name -> the Glue type names seen, e.g.
        ``{"provider id": ("long", "string")}``; each such column is a string column of raw text.
    """

    def __init__(self, df: DataFrame, glue_ctx: Any, name: str = "", choices: dict[str, tuple[str, ...]] | None = None):
        if not isinstance(df, DataFrame):
            raise TypeError(f"DynamicFrame wraps a pyspark.sql.DataFrame, not {type(df).__name__}")
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name
        self._choices = {column: tuple(types) for column, types in (choices or {}).items()}
        fields = {f.name: f.dataType for f in df.schema.fields} if self._choices else {}
        for column, types in self._choices.items():
            if not isinstance(fields.get(column), T.StringType) or not types:
                raise ValueError(
                    f"choice column {column!r} must be a string column of the DataFrame (raw text) with "
                    f"at least one type name; got {fields.get(column)} and {types!r}"
                )
        self._error_batches: tuple[tuple[DataFrame, int], ...] = ()
        self._stage_errors: tuple[DataFrame, int] | None = None
        self._thresholds = (0, 0)

    def _derive(
        self,
        df: DataFrame,
        choices: dict[str, tuple[str, ...]] | None = None,
        *,
        name: str | None = None,
        parents: tuple[DynamicFrame, ...] = (),
        stage_errors: tuple[DataFrame, int] | None = None,
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """A frame made from this one: error records carried over, thresholds checked."""
        frame = DynamicFrame(df, self.glue_ctx, self.name if name is None else name, choices)
        frame._error_batches = tuple(b for p in (self, *parents) for b in p._error_batches)
        if stage_errors is not None:
            frame._error_batches += (stage_errors,)
        frame._stage_errors = stage_errors
        frame._thresholds = (stageThreshold, totalThreshold)
        frame.assertErrorThreshold()
        return frame

    # -- construction -------------------------------------------------------------------------

    @staticmethod
    def fromDF(dataframe: DataFrame, glue_ctx: Any, name: str) -> DynamicFrame:
        """The DynamicFrame of a Spark ``DataFrame`` (no choice types)."""
        return DynamicFrame(dataframe, glue_ctx, name)

    def toDF(self, options: list[ResolveOption] | None = None) -> DataFrame:
        """The records as a Spark ``DataFrame``.

        DataFrames have no choice type: a choice column becomes a struct with one field per type,
        named by the type (Glue's make_struct), unless ``options`` resolve it otherwise, e.g.
        ``[ResolveOption("a", "Project", DoubleType())]``.
        """
        frame = self
        if options:
            frame = frame.resolveChoice(specs=[option.spec() for option in options])
        if frame._choices:
            frame = frame.resolveChoice(choice="make_struct")
        return frame._df

    # -- information ----------------------------------------------------------------------------

    def count(self) -> int:
        return self._df.count()

    def schema(self) -> gluetypes.StructType:
        """The schema in Glue's types; a choice column is a ``ChoiceType`` of the types seen."""
        fields = []
        for field in self._df.schema.fields:
            if field.name in self._choices:
                data_type = gluetypes.ChoiceType([gluetypes.named(t) for t in self._choices[field.name]])
            else:
                data_type = gluetypes.from_spark(field.dataType)
            fields.append(gluetypes.Field(field.name, data_type))
        return gluetypes.StructType(fields)

    def printSchema(self) -> None:
        """Prints the schema as Glue does: ``root``, then ``|-- name: type`` lines, nested by ``|    ``."""
        print("\n".join(gluetypes.tree_lines(self.schema())))

    def show(self, num_rows: int = 20) -> None:
        """Prints the first ``num_rows`` records, one JSON object a line (null fields left out)."""
        for row in self._df.limit(num_rows).collect():
            record = _to_record(row, self._choices)
            print(json.dumps(_without_nulls(record), default=_json_default, ensure_ascii=False))

    def getNumPartitions(self) -> int:
        return self._df.rdd.getNumPartitions()

    def repartition(
        self, num_partitions: int, transformation_ctx: str = "", info: str = "", stageThreshold=0, totalThreshold=0
    ) -> DynamicFrame:
        return self._derive(
            self._df.repartition(num_partitions),
            self._choices,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )

    def coalesce(
        self, num_partitions: int, transformation_ctx: str = "", info: str = "", stageThreshold=0, totalThreshold=0
    ) -> DynamicFrame:
        return self._derive(
            self._df.coalesce(num_partitions),
            self._choices,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )

    # -- field transforms -------------------------------------------------------------------------

    def _paths(self, paths: str | Iterable[str], call: str) -> list[list[str]]:
        """The resolved field names of each of ``paths`` that names a field; the others logged."""
        resolved = []
        for path in _as_list(paths):
            found = _resolve(self._df.schema, _parse_path(path))
            if found is None:
                logger.warning("%s: no field %r in %s; ignored", call, path, self._df.columns)
            else:
                resolved.append(found[0])
        return resolved

    def apply_mapping(
        self,
        mappings: list[tuple[str, str, str, str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Selects, renames and casts fields: only the mapped fields are kept.

        Each mapping is ``(source path, source type, target path, target type)``, the form AWS
        documents, or ``(source path, target path[, target type])``; a dotted target builds
        structs (``"provider.id"``). Values are cast to the target type (a value that does not
        convert is null); ``struct``/``array``/``map`` targets keep the value as it is. A source
        nested in an array is not supported (nor is it by Glue).
        """
        schema = self._df.schema
        targets: dict = {}
        choices: dict[str, tuple[str, ...]] = {}
        for mapping in mappings:
            source, target, target_type = _check_mapping(mapping)
            found = _resolve(schema, source, case_sensitive)
            if found is None:
                logger.warning(
                    "apply_mapping: no field %r in %s; mapping %r ignored", mapping[0], schema.names, mapping
                )
                continue
            names, in_array, source_type = found
            if in_array:
                raise unsupported(
                    "DynamicFrame.apply_mapping", PAGE, f"a source field nested in an array ({mapping[0]!r})"
                )
            value = _column(names)
            if len(names) == 1 and names[0] in self._choices:
                if target_type is not None:
                    value = _cast_text(value, target_type)
                elif len(target) == 1:
                    choices[target[0]] = self._choices[names[0]]
                else:
                    raise unsupported(
                        "DynamicFrame.apply_mapping", PAGE, f"a choice mapped into a struct ({mapping!r})"
                    )
            elif target_type is not None and source_type != target_type:
                value = value.cast(target_type)
            _place(targets, target, value, mapping)
        return self._derive(
            self._df.select(*_tree_columns(targets)),
            choices,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )

    def drop_fields(
        self,
        paths: str | list[str],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Drops fields; nested ones by dotted path, also inside arrays of structs (``"friends.age"``).

        A struct left with no field is dropped too, as AWS's DropFields examples show.
        """
        resolved = self._paths(paths, "drop_fields")
        dropped = {names[0] for names in resolved if len(names) == 1}
        if len(dropped) == len(resolved):
            df = self._df.drop(*dropped)
        else:
            df = self._df.select(*_rewrite(None, self._df.schema, _tree((names, _drop) for names in resolved), True))
        choices = {k: v for k, v in self._choices.items() if k not in dropped}
        return self._derive(df, choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def select_fields(
        self,
        paths: str | list[str],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keeps only the given fields (a nested path keeps its struct with just that field), in schema order."""
        resolved = self._paths(paths, "select_fields")
        columns = _rewrite(None, self._df.schema, _tree((names, _keep) for names in resolved), False)
        whole = {names[0] for names in resolved if len(names) == 1}
        choices = {k: v for k, v in self._choices.items() if k in whole}
        return self._derive(
            self._df.select(*columns), choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    def rename_field(
        self,
        oldName: str,
        newName: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Renames a field; both names are full paths (``"address.state"`` -> ``"address.state_code"``).

        Within the same struct the field keeps its place (also inside arrays of structs); a new
        path elsewhere moves it there (appended to an existing struct, or a new top-level one).
        A field already at the new path is replaced.
        """
        schema = self._df.schema
        found = _resolve(schema, _parse_path(oldName))
        if found is None:
            logger.warning("rename_field: no field %r in %s; ignored", oldName, self._df.columns)
            return self._derive(self._df, self._choices)
        names, in_array, _ = found
        new = _parse_path(newName)
        choices = dict(self._choices)
        if new[:-1] == names[:-1]:
            renamed = new[-1]
            taken = renamed != names[-1] and _resolve(schema, new) is not None
            if len(names) == 1 and not taken:
                df = self._df.withColumnRenamed(names[0], renamed)
            else:
                items = [(new, _drop)] if taken else []
                items.append((names, lambda c, f: [c.alias(renamed)]))
                df = self._df.select(*_rewrite(None, schema, _tree(items), True))
            if len(names) == 1:
                choices.pop(renamed, None)
                if names[0] in choices:
                    choices[renamed] = choices.pop(names[0])
            return self._derive(df, choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold)
        if in_array:
            raise unsupported(
                "DynamicFrame.rename_field", PAGE, f"moving a field out of an array ({oldName!r} to {newName!r})"
            )
        if names[0] in choices and len(new) > 1:
            raise unsupported(
                "DynamicFrame.rename_field", PAGE, f"moving a choice column into a struct ({oldName!r} to {newName!r})"
            )
        moved = "__glue_renamed__"
        dropped = _rewrite(None, schema, _tree([(names, _drop), (new, _drop)]), True)
        staged = self._df.select(*dropped, _column(names).alias(moved))
        if len(new) == 1:
            choices.pop(new[0], None)
            columns = [F.col(_quote(c)) for c in staged.columns if c != moved] + [F.col(moved).alias(new[0])]
        else:
            columns = _insert(staged.schema, new, moved)
        return self._derive(
            staged.select(*columns), choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    def unnest(
        self, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0
    ) -> DynamicFrame:
        """Flattens nested structs into top-level columns named with dots (``address.state``).

        Arrays are left as they are (``relationalize`` pivots them).
        """
        columns = [c for f in self._df.schema.fields for c in _flatten(F.col(_quote(f.name)), f.dataType, f.name)]
        return self._derive(
            self._df.select(*columns), self._choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    def resolveChoice(
        self,
        specs: list[tuple[str, str]] | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
        catalog_id: str | None = None,
    ) -> DynamicFrame:
        """Resolves choice types, per field (``specs=[(path, action)]``) or all of them (``choice=``).

        Actions: ``cast:<type>`` (every value cast; one that does not convert is null),
        ``project:<type>`` (keeps the values of that type, others null), ``make_cols`` (a column
        ``<name>_<type>`` per type), ``make_struct`` (a struct with a field per type) and
        ``match_catalog`` (cast to the column's type in ``database.table_name``). ``cast`` and
        ``project`` on a field that is not a choice cast it.
        """
        if specs is not None and choice:
            raise ValueError("resolveChoice takes specs or choice, not both (AWS: choice must then be empty)")
        if specs is None and not choice:
            raise unsupported("DynamicFrame.resolveChoice", PAGE, "neither specs nor choice given")
        items = [(_quote(name), choice) for name in self._choices] if choice else [_check_spec(s) for s in specs]
        catalog: dict[str, T.DataType | None] | None = None
        if any(action.strip().lower() == "match_catalog" for _, action in items):
            catalog = self._catalog_types(database, table_name, catalog_id)
        schema = self._df.schema
        choices = dict(self._choices)
        actions: list[tuple[list[str], Action]] = []
        casts: dict[str, Column] = {}
        for path, action in items:
            kind, target = _parse_action(action, (path, action))
            segments = _parse_path(path)
            if kind == "match_catalog":
                if segments[0].lower() not in catalog:
                    logger.warning(
                        "resolveChoice: %r is not a column of %s.%s; left as it is", path, database, table_name
                    )
                    continue
                kind, target = "cast", catalog[segments[0].lower()]
            if len(segments) == 1 and segments[0] in choices:
                actions.append((segments, _choice_action(kind, target, choices.pop(segments[0]))))
                continue
            found = _resolve(schema, segments)
            if found is None:
                logger.warning("resolveChoice: no field %r in %s; ignored", path, self._df.columns)
            elif kind not in ("cast", "project") or target is None or found[2] == target:
                continue
            elif len(found[0]) == 1:
                casts[found[0][0]] = F.col(_quote(found[0][0])).cast(target)
            else:
                actions.append((found[0], lambda c, f, to=target: [c.cast(to).alias(f.name)]))
        df = self._df.select(*_rewrite(None, schema, _tree(actions), True)) if actions else self._df
        df = df.withColumns(casts) if casts else df
        return self._derive(df, choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def _catalog_types(self, database: str | None, table_name: str | None, catalog_id: str | None) -> dict:
        if not database or not table_name:
            raise ValueError("resolveChoice match_catalog needs database and table_name")
        columns = self.glue_ctx.catalog_columns(database, table_name, catalog_id)
        return {name.lower(): _spark_type(hive_type) for name, hive_type in columns}

    # -- record functions (map, filter) -----------------------------------------------------------

    def map(
        self,
        f: Callable[[DynamicRecord], dict],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Applies ``f`` to every record (a :class:`DynamicRecord`); the results make the new frame.

        The schema is inferred from the returned records: fields can be added, changed or
        deleted; a field keeps its input type where its values still fit it. A record on which
        ``f`` raises (or returns something else than a record) becomes an error record.

        :raises ValueError: when a field has incompatible types in different records.
        """
        choices = dict(self._choices)

        def apply(rows: Iterator[Row]) -> Iterator[tuple]:
            for row in rows:
                try:
                    result = f(_to_record(row, choices))
                    if not isinstance(result, dict):
                        raise TypeError(f"the map function returned {type(result).__name__}, not a record")
                    result = _plain(result)
                    _record_node(result, choices)
                    yield (True, result)
                except Exception as exc:
                    yield (False, _error_row(exc, row, choices, "Map", info, transformation_ctx))

        results = self._df.rdd.mapPartitions(apply).persist(StorageLevel.MEMORY_AND_DISK)
        node, errors = results.aggregate(
            (("struct", {}), 0),
            lambda acc, r: (_merge(acc[0], _record_node(r[1], choices)), acc[1]) if r[0] else (acc[0], acc[1] + 1),
            lambda a, b: (_merge(a[0], b[0]), a[1] + b[1]),
        )
        schema, out_choices = _map_schema(node, self._df.schema, choices)
        spark = self._df.sparkSession
        records = results.filter(lambda r: r[0]).map(lambda r: _conform(r[1], schema))
        return self._derive(
            spark.createDataFrame(records, schema, verifySchema=False),
            out_choices,
            stage_errors=(self._errors_frame(results), errors),
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )

    def filter(
        self,
        f: Callable[[DynamicRecord], bool],
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """Keeps the records for which ``f`` (given a :class:`DynamicRecord`) is true.

        A record on which ``f`` raises becomes an error record.
        """
        choices = dict(self._choices)

        def apply(rows: Iterator[Row]) -> Iterator[tuple]:
            for row in rows:
                try:
                    if f(_to_record(row, choices)):
                        yield (True, row)
                except Exception as exc:
                    yield (False, _error_row(exc, row, choices, "Filter", info, transformation_ctx))

        results = self._df.rdd.mapPartitions(apply).persist(StorageLevel.MEMORY_AND_DISK)
        errors = results.filter(lambda r: not r[0]).count()
        spark = self._df.sparkSession
        rows = results.filter(lambda r: r[0]).map(lambda r: r[1])
        kept = spark.createDataFrame(rows, self._df.schema, verifySchema=False)
        return self._derive(
            kept,
            self._choices,
            stage_errors=(self._errors_frame(results), errors),
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )

    def _errors_frame(self, results: Any) -> DataFrame:
        errors = results.filter(lambda r: not r[0]).map(lambda r: r[1])
        return self._df.sparkSession.createDataFrame(errors, ERROR_SCHEMA, verifySchema=False)

    # -- frames from frames -------------------------------------------------------------------------

    def join(
        self,
        paths1: str | list[str],
        paths2: str | list[str],
        frame2: DynamicFrame,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """The equality join of this frame (keys ``paths1``) and ``frame2`` (keys ``paths2``).

        Both frames' fields are kept, the keys included; a field name both frames have is
        prefixed with ``.`` in this frame's copy, as AWS's Join example shows (``.zip`` and ``zip``).
        """
        keys1, keys2 = _as_list(paths1), _as_list(paths2)
        if not keys1 or len(keys1) != len(keys2):
            raise ValueError(f"join needs as many keys in paths1 as in paths2, got {keys1!r} and {keys2!r}")
        right = frame2._df
        shared = set(self._df.columns) & set(right.columns)
        rename = {c: f".{c}" if c in shared else c for c in self._df.columns}
        left = self._df.select(*[F.col(_quote(c)).alias(rename[c]) for c in self._df.columns])
        equalities = []
        for key1, key2 in zip(keys1, keys2, strict=True):
            names1 = _parse_path(key1)
            names1[0] = rename.get(names1[0], names1[0])
            equalities.append(_bound(left, names1) == _bound(right, _parse_path(key2)))
        condition = reduce(lambda a, b: a & b, equalities)
        joined = left.join(right, condition, "inner").select(
            *[left[_quote(c)] for c in left.columns], *[right[_quote(c)] for c in right.columns]
        )
        choices = {rename[k]: v for k, v in self._choices.items()} | frame2._choices
        return self._derive(
            joined, choices, parents=(frame2,), stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    def relationalize(
        self,
        root_table_name: str,
        staging_path: str | None = None,
        options: dict | None = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrameCollection:
        """Flattens structs and pivots arrays out into tables, as AWS's legislators example shows.

        The root table is ``root_table_name``: structs flattened into ``a.b`` columns, each array
        column replaced by a join key (bigint, 1, 2, ... per row; null for a null array). Each
        array becomes a table ``<root_table_name>_<column>`` with ``id`` (the key), ``index``
        (the position) and the element as ``<column>.val`` (a struct element flattened into
        ``<column>.val.<field>``); arrays in those tables are pivoted out the same way. The
        tables are materialised in memory, so ``staging_path`` is not used.
        """
        if self._choices:
            raise unsupported(
                "DynamicFrame.relationalize",
                PAGE,
                f"a frame with unresolved choice columns {sorted(self._choices)} (resolveChoice them first)",
            )
        tables: dict[str, DynamicFrame] = {}
        pending = [(root_table_name, self.unnest()._df)]
        while pending:
            table, df = pending.pop(0)
            fields = df.schema.fields
            if maps := [f.name for f in fields if isinstance(f.dataType, T.MapType)]:
                raise unsupported("DynamicFrame.relationalize", PAGE, f"map columns {maps}")
            arrays = [f.name for f in fields if isinstance(f.dataType, T.ArrayType)]
            if arrays:
                keyed = _with_row_key(df)
                pending.extend((f"{root_table_name}_{name}", _pivot(keyed, name)) for name in arrays)
                df = keyed.select(
                    *[
                        F.when(F.col(_quote(c)).isNotNull(), F.col(_ROW_KEY)).alias(c)
                        if c in arrays
                        else F.col(_quote(c))
                        for c in df.columns
                    ]
                )
            tables[table] = self._derive(
                df, {}, name=table, stageThreshold=stageThreshold, totalThreshold=totalThreshold
            )
        return DynamicFrameCollection(tables, self.glue_ctx)

    def split_fields(
        self,
        paths: str | list[str],
        name1: str,
        name2: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrameCollection:
        """Two frames: ``name1`` with the given fields, ``name2`` with the others."""
        kept = self.select_fields(paths, stageThreshold=stageThreshold, totalThreshold=totalThreshold)
        rest = self.drop_fields(paths, stageThreshold=stageThreshold, totalThreshold=totalThreshold)
        kept.name, rest.name = name1, name2
        return DynamicFrameCollection({name1: kept, name2: rest}, self.glue_ctx)

    def split_rows(
        self,
        comparison_dict: dict[str, dict[str, Any]],
        name1: str,
        name2: str,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrameCollection:
        """Two frames: ``name1`` with the rows meeting every comparison, ``name2`` with the others.

        ``{"age": {">": 10, "<": 20}}``: the operators are ``=``/``==``, ``!=``, ``<``, ``<=``,
        ``>``, ``>=``; a row whose field is missing (null) goes to ``name2``.
        """
        conditions = []
        for path, comparisons in comparison_dict.items():
            found = _resolve(self._df.schema, _parse_path(path))
            if found is None:
                raise ValueError(f"split_rows: no field {path!r} in {self._df.columns}")
            for op, value in comparisons.items():
                if op not in _COMPARISONS:
                    raise ValueError(
                        f"split_rows: unknown comparison {op!r} for {path!r}; use one of {list(_COMPARISONS)}"
                    )
                conditions.append(_COMPARISONS[op](_column(found[0]), F.lit(value)))
        matches = F.coalesce(reduce(lambda a, b: a & b, conditions, F.lit(True)), F.lit(False))
        first = self._derive(
            self._df.where(matches),
            self._choices,
            name=name1,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )
        second = self._derive(
            self._df.where(~matches),
            self._choices,
            name=name2,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )
        return DynamicFrameCollection({name1: first, name2: second}, self.glue_ctx)

    def mergeDynamicFrame(
        self,
        stage_dynamic_frame: DynamicFrame,
        primary_keys: str | list[str],
        transformation_ctx: str = "",
        options: dict | None = None,
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
    ) -> DynamicFrame:
        """This frame's records whose keys the staging frame lacks, plus all the staging frame's records.

        Duplicates are kept; the frames may have different fields (a missing one is null).
        """
        keys = _as_list(primary_keys)
        stage = stage_dynamic_frame._df
        for frame, columns in (("source", self._df.columns), ("staging", stage.columns)):
            if missing := [k for k in keys if k not in columns]:
                raise ValueError(f"mergeDynamicFrame: the {frame} frame has no primary key field {missing}")
        if self._choices or stage_dynamic_frame._choices:
            raise unsupported("DynamicFrame.mergeDynamicFrame", PAGE, "frames with unresolved choice columns")
        source_types = {f.name: f.dataType for f in self._df.schema.fields}
        integral = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
        for field in stage.schema.fields:
            other = source_types.get(field.name)
            if other not in (None, field.dataType) and not (
                isinstance(other, integral) and isinstance(field.dataType, integral)
            ):
                raise unsupported(
                    "DynamicFrame.mergeDynamicFrame",
                    PAGE,
                    f"field {field.name!r} is {other.simpleString()} in one frame and "
                    f"{field.dataType.simpleString()} in the other (Glue would make it a choice type)",
                )
        kept = self._df.join(stage.select(*[F.col(_quote(k)) for k in keys]), on=keys, how="left_anti")
        merged = kept.unionByName(stage, allowMissingColumns=True)
        return self._derive(
            merged, {}, parents=(stage_dynamic_frame,), stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    def spigot(self, path: str, options: dict | str | None = None, transformation_ctx: str = "") -> DynamicFrame:
        """Writes sample records (JSON lines) to the local folder ``path`` and returns this frame.

        Options: ``topk`` (the number of records, 100 by default) and ``prob`` (the probability
        of picking each record, 1 by default).
        """
        if str(path).startswith("s3:"):
            raise unsupported("DynamicFrame.spigot", PAGE, "an s3:// destination (give a local path)")
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except json.JSONDecodeError as exc:
                raise ValueError(f"spigot options must be a dict or a JSON object, not {options!r}") from exc
        options = options or {}
        sample = self.toDF()
        if float(options.get("prob", 1)) < 1:
            sample = sample.sample(fraction=float(options["prob"]))
        sample.limit(int(options.get("topk", 100))).write.mode("overwrite").json(str(path))
        return self._derive(self._df, self._choices)

    def write(
        self,
        connection_type: str,
        connection_options: dict | None = None,
        format: str | None = None,
        format_options: dict | None = None,
        accumulator_size: int = 0,
    ) -> Any:
        """Writes the frame with the GlueContext's ``write_dynamic_frame_from_options``."""
        return self.glue_ctx.write_dynamic_frame_from_options(
            frame=self,
            connection_type=connection_type,
            connection_options=connection_options or {},
            format=format,
            format_options=format_options or {},
        )

    def unbox(
        self,
        path: str,
        format: str,
        transformation_ctx: str = "",
        info="",
        stageThreshold=0,
        totalThreshold=0,
        **options,
    ):
        raise unsupported("DynamicFrame.unbox", PAGE)

    def unnest_ddb_json(self, transformation_ctx: str = "", info="", stageThreshold=0, totalThreshold=0):
        raise unsupported("DynamicFrame.unnest_ddb_json", PAGE)

    def simplify_ddb_json(self):
        raise unsupported("DynamicFrame.simplify_ddb_json", PAGE)

    def _drop_null_fields(self, stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:
        """Drops the fields (nested ones too) that are null in every record, or of NullType.

        AWS's DropNullFields drops "fields with missing or null values in every record", whose
        computed type is NullType; finding them takes one aggregation over the data.
        """
        leaves: list[list[str]] = []
        null_typed: list[list[str]] = []

        def walk(struct: T.StructType, prefix: list[str]) -> None:
            for field in struct.fields:
                names = [*prefix, field.name]
                if isinstance(field.dataType, T.StructType):
                    walk(field.dataType, names)
                else:
                    (null_typed if isinstance(field.dataType, T.NullType) else leaves).append(names)

        walk(self._df.schema, [])
        counts = self._df.select(*[F.count(_column(n)) for n in leaves]).first() if leaves else []
        empty = null_typed + [names for names, n in zip(leaves, counts, strict=True) if n == 0]
        columns = _rewrite(None, self._df.schema, _tree((names, _drop) for names in empty), True)
        dropped = {names[0] for names in empty if len(names) == 1}
        choices = {k: v for k, v in self._choices.items() if k not in dropped}
        return self._derive(
            self._df.select(*columns), choices, stageThreshold=stageThreshold, totalThreshold=totalThreshold
        )

    # -- errors -------------------------------------------------------------------------------

    def errorsCount(self) -> int:
        """The number of error records made by the transforms that led to this frame."""
        return sum(count for _, count in self._error_batches)

    def stageErrorsCount(self) -> int:
        """The number of error records made by the transform that made this frame."""
        return self._stage_errors[1] if self._stage_errors else 0

    def errorsAsDynamicFrame(self) -> DynamicFrame:
        """The error records so far, one ``error`` struct each: ``msg``, ``stackTrace``,
        ``transformation``, ``info``, ``transformation_ctx`` and ``input`` (the record as JSON)."""
        spark = self._df.sparkSession
        frames = [df for df, _ in self._error_batches] or [spark.createDataFrame([], ERROR_SCHEMA)]
        return DynamicFrame(reduce(DataFrame.unionByName, frames), self.glue_ctx, f"{self.name}_errors")

    def assertErrorThreshold(self) -> None:
        """Raises :class:`ErrorThresholdExceeded` if the frame has more errors than its thresholds allow."""
        stage, total = self._thresholds
        if stage and self.stageErrorsCount() > stage:
            raise ErrorThresholdExceeded(
                f"{self.stageErrorsCount()} error records in this transformation, over its stageThreshold {stage}"
            )
        if total and self.errorsCount() > total:
            raise ErrorThresholdExceeded(
                f"{self.errorsCount()} error records in total, over the totalThreshold {total}"
            )


def _check_mapping(mapping: Any) -> tuple[list[str], list[str], T.DataType | None]:
    """(source path, target path, target type) of a mapping tuple; ValueError naming a bad one.

    AWS documents ``(source path, source type, target path, target type)``; Glue's Python API
    also passes 2- and 3-tuples on to Glue, read here as ``(source path, target path)`` (the type
    kept) and ``(source path, target path, target type)``.
    """
    if (
        not isinstance(mapping, (tuple, list))
        or len(mapping) not in (2, 3, 4)
        or not all(isinstance(m, str) for m in mapping)
    ):
        raise ValueError(
            f"apply_mapping: mapping {mapping!r} is not a tuple of strings: (source path, source type, target path, "
            "target type), (source path, target path, target type) or (source path, target path)"
        )
    try:
        if len(mapping) == 2:
            return _parse_path(mapping[0]), _parse_path(mapping[1]), None
        if len(mapping) == 3:
            return _parse_path(mapping[0]), _parse_path(mapping[1]), _spark_type(mapping[2])
        _spark_type(mapping[1])
        return _parse_path(mapping[0]), _parse_path(mapping[2]), _spark_type(mapping[3])
    except ValueError as exc:
        raise ValueError(f"apply_mapping: mapping {mapping!r}: {exc}") from exc


def _place(tree: dict, path: list[str], value: Column, mapping: Any) -> None:
    node = tree
    for name in path[:-1]:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise ValueError(f"apply_mapping: mapping {mapping!r} nests under {name!r}, which another mapping sets")
    if path[-1] in node:
        raise ValueError(f"apply_mapping: mapping {mapping!r} sets {'.'.join(path)!r}, which another mapping sets")
    node[path[-1]] = value


def _tree_columns(tree: dict) -> list[Column]:
    return [
        F.struct(*_tree_columns(node)).alias(name) if isinstance(node, dict) else node.alias(name)
        for name, node in tree.items()
    ]


def _insert(schema: T.StructType, path: list[str], source: str) -> list[Column]:
    """The columns of ``schema`` (less ``source``) with column ``source`` put at the nested ``path``."""
    parent = _resolve(schema, path[:-1])
    value = F.col(source)
    if parent is not None:
        if parent[1] or not isinstance(parent[2], T.StructType):
            raise ValueError(f"rename_field: {'.'.join(path[:-1])!r} is not a struct outside arrays")
        actions = [(parent[0], lambda c, f: [c.withField(_quote(path[-1]), value).alias(f.name)]), ([source], _drop)]
        return _rewrite(None, schema, _tree(actions), True)
    if _find_field(schema, path[0]) is not None:
        raise ValueError(f"rename_field: cannot create {'.'.join(path)!r}: {path[0]!r} exists and is not a struct")
    nested = reduce(lambda v, name: F.struct(v.alias(name)), reversed(path[1:]), value)
    return [F.col(_quote(f.name)) for f in schema.fields if f.name != source] + [nested.alias(path[0])]


def _check_spec(spec: Any) -> tuple[str, str]:
    if not isinstance(spec, (tuple, list)) or len(spec) != 2 or not all(isinstance(s, str) for s in spec):
        raise ValueError(f"resolveChoice: spec {spec!r} is not a (field path, action) tuple of strings")
    return spec[0], spec[1]


def _parse_action(action: str, spec: Any) -> tuple[str, T.DataType | None]:
    kind, _, type_name = action.strip().partition(":")
    kind = kind.strip().lower()
    if kind in ("cast", "project") and type_name:
        try:
            return kind, _spark_type(type_name)
        except ValueError as exc:
            raise ValueError(f"resolveChoice: spec {spec!r}: {exc}") from exc
    if kind in ("make_cols", "make_struct", "match_catalog") and not type_name:
        return kind, None
    raise ValueError(
        f"resolveChoice: spec {spec!r}: unknown action {action!r}; use cast:<type>, project:<type>, "
        "make_cols, make_struct or match_catalog"
    )


def _choice_action(kind: str, target: T.DataType | None, types: tuple[str, ...]) -> Action:
    """The columns that resolve a choice column of ``types`` with ``kind``."""

    def resolve(column: Column, field: T.StructField) -> list[Column]:
        if kind == "cast":
            return [_cast_text(column, target).alias(field.name)]
        if kind == "project":
            return [_choice_value(column, types, _glue_name(target)).alias(field.name)]
        if kind == "make_cols":
            return [_choice_value(column, types, t).alias(f"{field.name}_{t}") for t in types]
        return [_choice_struct(column, types).alias(field.name)]

    if target is None and kind in ("cast", "project"):
        raise unsupported("DynamicFrame.resolveChoice", PAGE, f"{kind} of a choice to a struct, array or map")
    if kind == "project" and _glue_name(target) not in types:
        logger.warning("resolveChoice: project:%s keeps no value of a choice of %s", _glue_name(target), types)
        return lambda column, field: [F.lit(None).cast(target).alias(field.name)]
    return resolve


def _map_schema(
    node: tuple, hint: T.StructType, choices: dict[str, tuple[str, ...]]
) -> tuple[T.StructType, dict[str, tuple[str, ...]]]:
    """The schema (and choice columns) of a map's results, from their merged type tree."""
    hints = {f.name: f.dataType for f in hint.fields}
    fields, out_choices, conflicts = [], {}, []
    for name, child in node[1].items():
        if child[0] == "choice":
            seen = [t for t in choices[name] if t in child[1]] + sorted(child[1] - set(choices[name]))
            seen = seen or list(choices[name])
            if len(seen) > 1:
                out_choices[name] = tuple(seen)
                if any(t in _NO_CAST for t in seen):
                    conflicts.append(f"{name!r} ({', '.join(seen)})")
            data_type = _choice_member_type(seen[0]) if len(seen) == 1 else T.StringType()
        else:
            data_type = _node_type(child, hints.get(name), name, conflicts)
        fields.append(T.StructField(name, data_type))
    if conflicts:
        raise ValueError(
            "DynamicFrame.map: the records returned have fields of incompatible types: "
            f"{'; '.join(conflicts)}. Glue would make them choice types, which the local runtime does not "
            "build for map results: make the function return one type per field."
        )
    return T.StructType(fields), out_choices


def _bound(df: DataFrame, names: list[str]) -> Column:
    """The field at ``names`` of ``df`` as a column bound to ``df`` (for joins)."""
    return reduce(lambda c, name: c.getField(name), names[1:], df[_quote(names[0])])


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


_COMPARISONS: dict[str, Callable[[Column, Column], Column]] = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_ROW_KEY = "__glue_relationalize_key__"


def _with_row_key(df: DataFrame) -> DataFrame:
    """``df`` with a key column numbering its rows from 1, materialised so the keys stay put."""
    schema = T.StructType([*df.schema.fields, T.StructField(_ROW_KEY, T.LongType(), False)])
    rows = df.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1] + 1))
    return df.sparkSession.createDataFrame(rows, schema, verifySchema=False).localCheckpoint()


def _pivot(keyed: DataFrame, column: str) -> DataFrame:
    """The table of array ``column``'s elements: ``id``, ``index`` and the element as ``<column>.val``."""
    exploded = keyed.select(F.col(_ROW_KEY).alias("id"), F.posexplode(F.col(_quote(column))).alias("index", "val"))
    element = exploded.schema["val"].dataType
    return exploded.select("id", "index", *_flatten(F.col("val"), element, f"{column}.val"))


# --------------------------------------------------------------------------------------------
# DynamicFrameCollection, ResolveOption
# --------------------------------------------------------------------------------------------


class DynamicFrameCollection:
    """A dictionary of DynamicFrames by name, as ``relationalize`` and the split transforms return."""

    def __init__(self, dynamic_frames: dict[str, DynamicFrame], glue_ctx: Any):
        for key, frame in dynamic_frames.items():
            if not isinstance(frame, DynamicFrame):
                raise TypeError(f"DynamicFrameCollection: {key!r} is a {type(frame).__name__}, not a DynamicFrame")
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def keys(self):
        return self._frames.keys()

    def values(self):
        return self._frames.values()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        """The frame named ``key``."""
        if key not in self._frames:
            raise KeyError(f"DynamicFrameCollection has no frame {key!r}; it has {list(self._frames)}")
        return self._frames[key]

    def __getitem__(self, key: str) -> DynamicFrame:
        return self.select(key)

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self):
        return iter(self._frames)

    def __contains__(self, key: object) -> bool:
        return key in self._frames

    def map(self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = ""):
        """A collection of ``callable(frame, transformation_ctx)`` for each frame, under the same keys."""
        frames = {}
        for key, frame in self._frames.items():
            result = callable(frame, transformation_ctx)
            if not isinstance(result, DynamicFrame):
                raise TypeError(
                    f"DynamicFrameCollection.map: the function returned {type(result).__name__} for {key!r}"
                )
            frames[key] = result
        return DynamicFrameCollection(frames, self.glue_ctx)

    def flatmap(self, f: Callable[[DynamicFrame], Any], transformation_ctx: str = ""):
        """A collection of ``f(frame)`` for each frame: a frame keeps its key, a collection adds its frames."""
        frames: dict[str, DynamicFrame] = {}
        for key, frame in self._frames.items():
            result = f(frame)
            if isinstance(result, DynamicFrameCollection):
                items = list(result._frames.items())
            elif isinstance(result, DynamicFrame):
                items = [(key, result)]
            else:
                raise TypeError(f"DynamicFrameCollection.flatmap: the function returned {type(result).__name__}")
            for name, item in items:
                if name in frames:
                    raise ValueError(f"DynamicFrameCollection.flatmap: two frames named {name!r}")
                frames[name] = item
        return DynamicFrameCollection(frames, self.glue_ctx)


class ResolveOption:
    """How ``toDF`` resolves a choice column: ``"KeepAsStruct"``, ``"Project"`` or ``"Cast"`` to a type.

    ``ResolveOption("a", "Project", DoubleType())``; the type is a Spark ``DataType`` or a type name.
    """

    def __init__(self, path: str, action: str, target: T.DataType | str | None = None):
        self.path, self.action, self.target = path, action, target

    def spec(self) -> tuple[str, str]:
        """The ``resolveChoice`` spec of this option."""
        action = self.action.lower()
        if action == "keepasstruct":
            return (self.path, "make_struct")
        if action in ("project", "cast") and self.target is not None:
            target = self.target if isinstance(self.target, str) else self.target.simpleString()
            return (self.path, f"{action}:{target}")
        raise ValueError(
            f"ResolveOption({self.path!r}, {self.action!r}, {self.target!r}): "
            "use KeepAsStruct, or Project or Cast with a type"
        )
