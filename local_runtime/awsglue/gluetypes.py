"""``awsglue.gluetypes``: the types of a :class:`~awsglue.dynamicframe.DynamicFrame`'s schema.

Written from AWS's "PySpark extension types" page
(https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-types.html):
``typeName()`` is the class name without its ``Type`` suffix, lower-cased (so ``IntegerType`` is
``"integer"``), ``jsonValue()`` is ``{"dataType": typeName, "properties": properties}``. Schemas
print with Glue's own short names (``int`` for ``IntegerType``), as in AWS's examples.

Besides the documented API, :func:`from_spark` and :func:`named` translate Spark types and Glue
type names; the local :class:`~awsglue.dynamicframe.DynamicFrame` builds its ``schema()`` with them.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import types as T

from awsglue._unsupported import unsupported

PAGE = "aws-glue-api-crawler-pyspark-extensions-types.html"


class DataType:
    """The base class of the Glue types."""

    def __init__(self, properties: dict | None = None):
        self.properties = dict(properties or {})

    @classmethod
    def typeName(cls) -> str:
        """The class name without ``Type``, lower-cased: ``"string"``, ``"long"``, ``"struct"``..."""
        return cls.__name__[: -len("Type")].lower()

    def jsonValue(self) -> dict[str, Any]:
        return {"dataType": self.typeName(), "properties": self.properties}

    def glue_name(self) -> str:
        """The name Glue prints for this type in a schema tree (``int`` for ``IntegerType``)."""
        return self.typeName()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.jsonValue() == other.jsonValue()

    def __hash__(self) -> int:
        return hash(self.typeName())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.properties or ''})"


class AtomicType(DataType):
    """The base class of the scalar types."""

    @classmethod
    def fromJsonValue(cls, json_value: dict[str, Any]) -> AtomicType:
        return cls(json_value.get("properties"))


class BinaryType(AtomicType):
    pass


class BooleanType(AtomicType):
    pass


class ByteType(AtomicType):
    pass


class DateType(AtomicType):
    pass


class DoubleType(AtomicType):
    pass


class FloatType(AtomicType):
    pass


class IntegerType(AtomicType):
    def glue_name(self) -> str:
        return "int"


class LongType(AtomicType):
    pass


class NullType(AtomicType):
    pass


class ShortType(AtomicType):
    pass


class StringType(AtomicType):
    pass


class TimestampType(AtomicType):
    pass


class UnknownType(AtomicType):
    pass


class DecimalType(AtomicType):
    """A decimal number; AWS's defaults are precision 10, scale 2."""

    def __init__(self, precision: int = 10, scale: int = 2, properties: dict | None = None):
        super().__init__(properties)
        self.precision = precision
        self.scale = scale

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "precision": self.precision, "scale": self.scale}

    @classmethod
    def fromJsonValue(cls, json_value: dict[str, Any]) -> DecimalType:
        return cls(json_value.get("precision", 10), json_value.get("scale", 2), json_value.get("properties"))


class EnumType(AtomicType):
    """An enumeration of valid options."""

    def __init__(self, options: list, properties: dict | None = None):
        super().__init__(properties)
        self.options = list(options)

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "options": self.options}


class ArrayType(DataType):
    def __init__(self, elementType: DataType | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.elementType = elementType if elementType is not None else UnknownType()

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "elementType": self.elementType.jsonValue()}


class ChoiceType(DataType):
    """A field whose values have different types in different records: ``choice(long, string)``."""

    def __init__(self, choices: list[DataType] | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.choices: list[DataType] = []
        self.merge(choices or [])

    def add(self, new_choice: DataType) -> None:
        """Adds ``new_choice`` unless a choice of its type is already there."""
        if new_choice not in self.choices:
            self.choices.append(new_choice)

    def merge(self, new_choices: list[DataType]) -> None:
        for choice in new_choices:
            self.add(choice)

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "choices": [c.jsonValue() for c in self.choices]}


class MapType(DataType):
    """A map from strings to values of ``valueType``."""

    def __init__(self, valueType: DataType | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.valueType = valueType if valueType is not None else UnknownType()

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "valueType": self.valueType.jsonValue()}


class Field:
    """A named field of a :class:`StructType`."""

    def __init__(self, name: str, dataType: DataType, properties: dict | None = None):
        self.name = name
        self.dataType = dataType
        self.properties = dict(properties or {})

    def jsonValue(self) -> dict[str, Any]:
        return {"name": self.name, "container": self.dataType.jsonValue(), "properties": self.properties}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Field) and self.jsonValue() == other.jsonValue()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.dataType!r})"


class StructType(DataType):
    """A structure of named fields; a frame's ``schema()`` is one."""

    def __init__(self, fields: list[Field] | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.fields: list[Field] = list(fields or [])

    def add(self, field: Field) -> None:
        self.fields.append(field)

    def hasField(self, field: str | Field) -> bool:
        return self.getField(field) is not None

    def getField(self, field: str | Field) -> Field | None:
        name = field.name if isinstance(field, Field) else field
        return next((f for f in self.fields if f.name == name), None)

    def jsonValue(self) -> dict[str, Any]:
        return {**super().jsonValue(), "fields": [f.jsonValue() for f in self.fields]}

    def __iter__(self):
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"StructType({self.fields!r})"


class EntityType(DataType):
    """Documented by AWS as "not yet implemented"."""

    def __init__(self, entity: Any = None, base_type: Any = None, properties: dict | None = None):
        raise unsupported("gluetypes.EntityType", PAGE, "AWS documents it as not yet implemented")


_ATOMIC: dict[str, type[AtomicType]] = {
    "binary": BinaryType,
    "boolean": BooleanType,
    "byte": ByteType,
    "date": DateType,
    "double": DoubleType,
    "float": FloatType,
    "int": IntegerType,
    "long": LongType,
    "null": NullType,
    "short": ShortType,
    "string": StringType,
    "timestamp": TimestampType,
}

_FROM_SPARK: dict[type[T.DataType], type[AtomicType]] = {
    T.BinaryType: BinaryType,
    T.BooleanType: BooleanType,
    T.ByteType: ByteType,
    T.DateType: DateType,
    T.DoubleType: DoubleType,
    T.FloatType: FloatType,
    T.IntegerType: IntegerType,
    T.LongType: LongType,
    T.NullType: NullType,
    T.ShortType: ShortType,
    T.StringType: StringType,
    T.CharType: StringType,
    T.VarcharType: StringType,
    T.TimestampType: TimestampType,
    T.TimestampNTZType: TimestampType,
}


def named(name: str) -> DataType:
    """The Glue type of a Glue type name as a choice lists it (``"long"``, ``"int"``, ``"decimal"``...)."""
    if name == "decimal":
        return DecimalType()
    return _ATOMIC.get(name, UnknownType)()


def from_spark(data_type: T.DataType) -> DataType:
    """The Glue type of a Spark SQL type (a Spark map's keys are dropped: Glue maps have string keys)."""
    if isinstance(data_type, T.StructType):
        return StructType([Field(f.name, from_spark(f.dataType)) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return ArrayType(from_spark(data_type.elementType))
    if isinstance(data_type, T.MapType):
        return MapType(from_spark(data_type.valueType))
    if isinstance(data_type, T.DecimalType):
        return DecimalType(data_type.precision, data_type.scale)
    return _FROM_SPARK.get(type(data_type), UnknownType)()


def tree_lines(schema: StructType) -> list[str]:
    """Glue's ``printSchema`` text of ``schema``, as in AWS's examples: ``root``, then ``|-- name: type``."""
    return ["root", *_field_lines(schema, 0)]


def _field_lines(data_type: DataType, depth: int) -> list[str]:
    indent = "|    " * depth
    lines: list[str] = []
    if isinstance(data_type, StructType):
        for field in data_type.fields:
            lines.append(f"{indent}|-- {field.name}: {field.dataType.glue_name()}")
            lines.extend(_field_lines(field.dataType, depth + 1))
    elif isinstance(data_type, ArrayType):
        lines.append(f"{indent}|-- element: {data_type.elementType.glue_name()}")
        lines.extend(_field_lines(data_type.elementType, depth + 1))
    elif isinstance(data_type, MapType):
        lines.append(f"{indent}|-- value: {data_type.valueType.glue_name()}")
        lines.extend(_field_lines(data_type.valueType, depth + 1))
    elif isinstance(data_type, ChoiceType):
        lines.extend(f"{indent}|-- {choice.glue_name()}" for choice in data_type.choices)
    return lines
