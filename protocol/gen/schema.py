# Parser and checker for Gregor's .schema files (format: protocol/gen/README.md).
# Produces a Message tree; every mistake is reported as "file:line: message".
import re

MAX_VERSION = 32767
PRIMITIVES = {
    "int8", "int16", "int32", "int64", "uint16", "uint32", "float64", "bool", "string", "bytes",
    "uuid", "records",
}
NULLABLE_KINDS = {"string", "bytes", "records"}  # plus arrays
# Names the generated code uses itself, and C++ keywords a Kafka field could plausibly collide with.
RESERVED = {
    "w", "r", "version", "flexible", "encode", "decode", "default", "delete", "new", "class",
    "struct", "operator", "template", "this", "namespace", "auto", "int", "bool", "char",
    "switch", "case", "return", "private", "public", "protected", "register", "union", "unsigned",
}


class SchemaError(Exception):
    pass


class VersionRange:
    """Inclusive [lo, hi]; empty when lo is None ("none")."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text, where):
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?|none", text)
        if not m:
            raise SchemaError(f"{where}: bad version range '{text}' (want N, N+, N-M or none)")
        if text == "none":
            return VersionRange(None, None)
        lo = int(m.group(1))
        if m.group(2) == "+":
            hi = MAX_VERSION
        elif m.group(3) is not None:
            hi = int(m.group(3))
        else:
            hi = lo
        if lo > hi or hi > MAX_VERSION:
            raise SchemaError(f"{where}: empty or out-of-range version range '{text}'")
        return VersionRange(lo, hi)

    def empty(self):
        return self.lo is None

    def contains(self, v):
        return not self.empty() and self.lo <= v <= self.hi

    def covers(self, other):
        return other.empty() or (not self.empty() and self.lo <= other.lo and other.hi <= self.hi)

    def intersect(self, other):
        if self.empty() or other.empty():
            return VersionRange(None, None)
        lo, hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return VersionRange(lo, hi) if lo <= hi else VersionRange(None, None)

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi == MAX_VERSION:
            return f"{self.lo}+"
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"


class Field:
    def __init__(self, name, type_text, where):
        self.name = name
        self.where = where
        self.is_array = type_text.startswith("[]")
        self.elem = type_text[2:] if self.is_array else type_text  # primitive or struct name
        self.versions = VersionRange(0, MAX_VERSION)
        self.nullable = VersionRange(None, None)
        self.tag = None
        self.tagged = VersionRange(None, None)
        self.default = None  # raw text from the schema, or None
        self.struct = None  # Struct when elem is a struct

    @property
    def is_struct(self):
        return self.elem not in PRIMITIVES

    @property
    def optional(self):
        """True when the C++ member is std::optional (records carries its own null)."""
        return not self.nullable.empty() and self.elem != "records"


class Struct:
    def __init__(self, name, where):
        self.name = name
        self.where = where
        self.fields = []


class Message:
    def __init__(self, path):
        self.path = path
        self.name = None
        self.api_key = -1
        self.kind = None  # request / response / data
        self.versions = None
        self.flexible = VersionRange(None, None)
        self.fields = []
        self.structs = {}  # every struct (nested or named) by name
        self.named = []  # top-level `struct` blocks, in file order

    @property
    def first_flexible(self):
        return MAX_VERSION if self.flexible.empty() else self.flexible.lo


def _tokens(raw_line):
    line = raw_line.split("#", 1)[0].rstrip()
    if not line.strip():
        return None, None
    if "\t" in line[: len(line) - len(line.lstrip())]:
        return -1, None
    return len(line) - len(line.lstrip(" ")), line.split()


def parse_file(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    msg = Message(path)
    # Stack of (indent, container) where container is Message, Struct or Field.
    stack = []
    last_field = None
    for no, raw in enumerate(lines, 1):
        where = f"{path}:{no}"
        indent, toks = _tokens(raw)
        if toks is None:
            if indent == -1:
                raise SchemaError(f"{where}: indent with spaces, not tabs")
            continue
        while stack and indent <= stack[-1][0]:
            stack.pop()
        head = toks[0]
        if indent == 0:
            last_field = None
            if head == "message" and len(toks) == 2:
                if msg.name:
                    raise SchemaError(f"{where}: a file holds one message; '{msg.name}' came first")
                msg.name = _pascal(toks[1], where)
                stack = [(0, msg)]
            elif head == "struct" and len(toks) == 2:
                s = Struct(_pascal(toks[1], where), where)
                _add_struct(msg, s)
                msg.named.append(s)
                stack = [(0, s)]
            else:
                raise SchemaError(f"{where}: expected 'message Name' or 'struct Name' at column 0")
            continue
        if not stack:
            raise SchemaError(f"{where}: indented line outside any message or struct")
        parent = stack[-1][1]
        if head == "field":
            if isinstance(parent, Field):
                if not parent.is_struct:
                    raise SchemaError(f"{where}: only a struct-typed field can have fields under it")
                if parent.struct is None:
                    parent.struct = Struct(parent.elem, parent.where)
                    _add_struct(msg, parent.struct)
                target = parent.struct
            else:
                target = parent
            fld = _parse_field(toks, where)
            if any(f.name == fld.name for f in target.fields):
                raise SchemaError(f"{where}: duplicate field '{fld.name}'")
            target.fields.append(fld)
            stack.append((indent, fld))
            last_field = fld
            continue
        if parent is not msg or last_field is not None:
            raise SchemaError(f"{where}: '{head}' belongs directly under 'message', before fields")
        _parse_message_attr(msg, toks, where)
    if not msg.name:
        raise SchemaError(f"{path}:1: no 'message' line")
    if msg.versions is None:
        raise SchemaError(f"{path}:1: message {msg.name} has no 'versions' line")
    if msg.kind is None:
        raise SchemaError(f"{path}:1: message {msg.name} needs 'api N request|response' or 'data'")
    _link_and_check(msg)
    return msg


def _pascal(name, where):
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise SchemaError(f"{where}: '{name}' must be PascalCase")
    return name


def _add_struct(msg, s):
    if s.name in msg.structs or s.name == msg.name:
        raise SchemaError(f"{s.where}: struct name '{s.name}' is already used in this message")
    msg.structs[s.name] = s


def _parse_message_attr(msg, toks, where):
    head = toks[0]
    if head == "api" and len(toks) == 3 and toks[2] in ("request", "response"):
        if not toks[1].isdigit():
            raise SchemaError(f"{where}: api key must be a number, got '{toks[1]}'")
        msg.api_key, msg.kind = int(toks[1]), toks[2]
    elif head == "data" and len(toks) == 1:
        msg.api_key, msg.kind = -1, "data"
    elif head == "versions" and len(toks) == 2:
        msg.versions = VersionRange.parse(toks[1], where)
        if msg.versions.empty() or msg.versions.hi == MAX_VERSION:
            raise SchemaError(f"{where}: message versions must be a closed range like 0-9")
    elif head == "flexible" and len(toks) == 2:
        msg.flexible = VersionRange.parse(toks[1], where)
        if not msg.flexible.empty() and msg.flexible.hi != MAX_VERSION:
            raise SchemaError(f"{where}: flexible versions must be open-ended (N+) or none")
    else:
        raise SchemaError(f"{where}: unknown line '{' '.join(toks)}' (want api/data/versions/flexible/field)")


def _parse_field(toks, where):
    if len(toks) < 3:
        raise SchemaError(f"{where}: want 'field name type [key=value...]'")
    name, type_text = toks[1], toks[2]
    # A trailing underscore is kept for the generated code's own locals.
    if not re.fullmatch(r"[a-z]([a-z0-9_]*[a-z0-9])?", name):
        raise SchemaError(f"{where}: field name '{name}' must be snake_case, not ending in '_'")
    if name in RESERVED:
        raise SchemaError(f"{where}: field name '{name}' is reserved in generated code")
    fld = Field(name, type_text, where)
    if fld.elem not in PRIMITIVES and not re.fullmatch(r"[A-Z][A-Za-z0-9]*", fld.elem):
        raise SchemaError(f"{where}: unknown type '{type_text}' (primitives: {' '.join(sorted(PRIMITIVES))})")
    if fld.is_array and fld.elem == "records":
        raise SchemaError(f"{where}: arrays of records are not supported")
    seen_tagged = False
    for attr in toks[3:]:
        key, eq, value = attr.partition("=")
        if not eq or not value:
            raise SchemaError(f"{where}: attribute '{attr}' must look like key=value")
        if key == "versions":
            fld.versions = VersionRange.parse(value, where)
        elif key == "nullable":
            fld.nullable = VersionRange.parse(value, where)
        elif key == "tag":
            if not value.isdigit():
                raise SchemaError(f"{where}: tag must be a non-negative number")
            fld.tag = int(value)
        elif key == "tagged":
            fld.tagged = VersionRange.parse(value, where)
            seen_tagged = True
        elif key == "default":
            fld.default = value
        else:
            raise SchemaError(f"{where}: unknown attribute '{key}' (versions nullable tag tagged default)")
    if fld.tag is not None and not seen_tagged:
        fld.tagged = fld.versions
    if seen_tagged and fld.tag is None:
        raise SchemaError(f"{where}: 'tagged=' needs 'tag=N'")
    return fld


def _link_and_check(msg):
    tags_seen = {}

    def check(fields, owner, parent_versions):
        tags = {}
        for f in fields:
            w = f.where
            if f.versions.empty():
                raise SchemaError(f"{w}: field '{f.name}' has versions=none; drop it instead")
            if not f.nullable.empty():
                if not (f.is_array or f.elem in NULLABLE_KINDS):
                    raise SchemaError(f"{w}: type '{f.elem}' cannot be nullable")
                if not f.versions.covers(f.nullable):
                    raise SchemaError(f"{w}: nullable={f.nullable} is outside versions={f.versions}")
            if f.tag is not None:
                if not f.versions.covers(f.tagged):
                    raise SchemaError(f"{w}: tagged={f.tagged} is outside versions={f.versions}")
                if not msg.flexible.covers(f.tagged):
                    raise SchemaError(f"{w}: tagged={f.tagged} includes non-flexible versions (flexible {msg.flexible})")
                if f.elem == "records":
                    raise SchemaError(f"{w}: records cannot be a tagged field")
                if f.tag in tags:
                    raise SchemaError(f"{w}: tag {f.tag} already used by '{tags[f.tag]}'")
                tags[f.tag] = f.name
            if f.is_struct:
                if f.struct is None:
                    if f.elem not in msg.structs:
                        raise SchemaError(f"{w}: unknown struct '{f.elem}' (indent its fields under this line or add 'struct {f.elem}')")
                    f.struct = msg.structs[f.elem]
                if not f.is_array and not f.nullable.empty():
                    raise SchemaError(f"{w}: a struct field cannot be nullable")
            if f.default is not None:
                check_default(f)
            if f.is_struct and f.struct not in visiting:
                visiting.add(f.struct)
                check(f.struct.fields, f.struct, f.versions)
        tags_seen[owner] = tags

    visiting = set()
    for s in msg.named:
        visiting.add(s)
        check(s.fields, s, msg.versions)
    check(msg.fields, msg, msg.versions)


def check_default(f):
    d, w = f.default, f.where
    if d == "null":
        if f.nullable.empty():
            raise SchemaError(f"{w}: default=null on a field that is never nullable")
        return
    if f.is_array or f.is_struct or f.elem in ("records", "uuid", "bytes"):
        raise SchemaError(f"{w}: only scalars and strings take a default (or null)")
    if f.elem == "bool":
        if d not in ("true", "false"):
            raise SchemaError(f"{w}: bool default must be true or false")
    elif f.elem == "string":
        if not re.fullmatch(r'"[^"\\]*"', d):
            raise SchemaError(f'{w}: string default must be quoted, without spaces: default=""')
    elif f.elem == "float64":
        try:
            float(d)
        except ValueError:
            raise SchemaError(f"{w}: bad float64 default '{d}'") from None
    else:
        try:
            v = int(d, 0)
        except ValueError:
            raise SchemaError(f"{w}: bad integer default '{d}'") from None
        bits = int(re.sub(r"\D", "", f.elem))
        lo, hi = (0, 2**bits - 1) if f.elem.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not lo <= v <= hi:
            raise SchemaError(f"{w}: default {d} does not fit {f.elem}")
