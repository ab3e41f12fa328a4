# Emits the C++ struct and encode/decode functions for one parsed schema (see docs/codegen.md).
# Locals in generated bodies end in '_' so they can never hide a field (schema names cannot).
from schema import MAX_VERSION

CPP_PRIMITIVE = {
    "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint16": "uint16_t", "uint32": "uint32_t", "float64": "double", "bool": "bool",
    "string": "std::string", "bytes": "std::string", "uuid": "Uuid", "records": "Records",
}
WRITE_FIXED = {
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64", "uint16": "uint16",
    "uint32": "uint32", "float64": "float64", "bool": "boolean", "uuid": "uuid",
}


def cpp_elem(f):
    return f.elem if f.is_struct else CPP_PRIMITIVE[f.elem]


def cpp_type(f):
    t = cpp_elem(f)
    if f.is_array:
        t = f"std::vector<{t}>"
    return f"std::optional<{t}>" if f.optional else t


def int_literal(value, elem):
    bits = int(elem[-2:]) if elem[-2:].isdigit() else int(elem[-1])
    if not elem.startswith("u") and value == -(2 ** (bits - 1)):
        return f"{value + 1} - 1"  # the minimum has no literal of its own in C++
    suffix = "LL" if bits == 64 else ""
    return f"{value}{suffix}"


def default_value(f):
    """C++ expression for the field's default, or None for a value-initialised member."""
    d = f.default
    if d is None or d == "null":
        if f.optional or f.is_array or f.is_struct or f.elem in ("records", "uuid", "string", "bytes"):
            return None
        return "false" if f.elem == "bool" else ("0.0" if f.elem == "float64" else "0")
    if f.elem == "bool":
        value = d
    elif f.elem == "string":
        value = d
    elif f.elem == "float64":
        value = repr(float(d))
    else:
        value = int_literal(int(d, 0), f.elem)
    return f"{cpp_type(f)}({value})" if f.optional else value


def not_default(f, e):
    """C++ condition: is member expression `e` different from its default (tagged fields)."""
    d = default_value(f)
    if f.optional and d is None:
        return f"{e}.has_value()"
    if f.is_array:
        return f"!{e}.empty()"
    if f.is_struct:
        return f"!({e} == {f.elem}{{}})"
    if f.elem == "uuid":
        return f"{e} != Uuid{{}}"
    if f.elem in ("string", "bytes") and d is None:
        return f"!{e}.empty()"
    return f"{e} != {d}"


class Conditions:
    """Turns version ranges into C++ conditions, dropping bounds the message range implies."""

    def __init__(self, msg):
        self.lo, self.hi = msg.versions.lo, msg.versions.hi
        self.range = msg.versions

    def of(self, rng):
        if rng.empty() or rng.hi < self.lo or rng.lo > self.hi:
            return "false"
        parts = []
        if rng.lo > self.lo:
            parts.append(f"version >= {rng.lo}")
        if rng.hi < self.hi and rng.hi != MAX_VERSION:
            parts.append(f"version <= {rng.hi}")
        return " && ".join(parts) if parts else "true"

    def nullable(self, f):
        """Nullable condition, to be tested only where the field is present."""
        present = f.versions.intersect(self.range)
        return "true" if f.nullable.covers(present) else self.of(f.nullable)

    def regular(self, f):
        """Versions in which the field sits in the struct body (not in the tagged section)."""
        present = self.of(f.versions)
        if f.tag is None or self.of(f.tagged) == "false":
            return present
        tagged = self.of(f.tagged)
        if tagged == "true" or tagged == present:
            return "false"
        return f"({present}) && !({tagged})"


def _guard(cond, body, ind):
    if cond == "false":
        return []
    if cond == "true":
        return [ind + line for line in body]
    return [f"{ind}if ({cond}) {{"] + [ind + "  " + line for line in body] + [f"{ind}}}"]


def write_scalar(f, e, w):
    if f.is_struct:
        return f"{e}.encode({w}, version);"
    if f.elem == "records":
        return f"{e}.encode({w}, flexible);"
    if f.elem in ("string", "bytes"):
        return f"{w}.{f.elem}({e}, flexible);"
    return f"{w}.{WRITE_FIXED[f.elem]}({e});"


def read_scalar_into(f, e, r):
    if f.is_struct:
        return f"{e}.decode({r}, version);"
    if f.elem == "records":
        return f"{e}.decode({r}, flexible);"
    if f.elem in ("string", "bytes"):
        return f"{e} = {r}.{f.elem}(flexible);"
    return f"{e} = {r}.{WRITE_FIXED[f.elem]}();"


def encode_field(f, w, cond):
    """Statements writing member f.name with Writer `w`; `cond` is the nullable condition."""
    e = f.name
    if f.is_array:
        loop = [f"{w}.array_length(static_cast<int32_t>(v_.size()), flexible);",
                "for (const auto& e_ : v_) {", "  " + write_scalar(f, "e_", w), "}"]
        if not f.optional:
            return ["{", f"  const auto& v_ = {e};"] + ["  " + s for s in loop] + ["}"]
        null_len = "-1" if cond == "true" else f"({cond}) ? -1 : 0"
        return [f"if (!{e}.has_value()) {{", f"  {w}.array_length({null_len}, flexible);",
                "} else {", f"  const auto& v_ = *{e};"] + ["  " + s for s in loop] + ["}"]
    if f.optional:
        nullable = f"{w}.nullable_{f.elem}({e}, flexible);"
        plain = f"{w}.{f.elem}({e} ? std::string_view(*{e}) : std::string_view(), flexible);"
        if cond == "true":
            return [nullable]
        return [f"if ({cond}) {{", "  " + nullable, "} else {", "  " + plain, "}"]
    return [write_scalar(f, e, w)]


def decode_field(f, r, cond):
    e = f.name
    if f.is_array:
        if f.is_struct:
            push = f"v_.emplace_back().decode({r}, version);"
        elif f.elem in ("string", "bytes"):
            push = f"v_.push_back({r}.{f.elem}(flexible));"
        else:
            push = f"v_.push_back({r}.{WRITE_FIXED[f.elem]}());"
        target = f"{e}.emplace()" if f.optional else f"{e}"
        body = ["{", f"  const int32_t n_ = {r}.array_length(flexible);", "  if (n_ < 0) {"]
        if not f.optional:
            body += [f"    {r}.fail();"]
        elif cond == "true":
            body += [f"    {e}.reset();"]
        else:
            body += [f"    if ({cond}) {{", f"      {e}.reset();", "    } else {", f"      {r}.fail();", "    }"]
        # No reserve(n_): the count is untrusted; array_length only bounds it by the bytes left.
        body += ["  } else {", f"    auto& v_ = {target};", "    v_.clear();",
                 f"    for (int32_t i_ = 0; i_ < n_ && {r}.ok(); ++i_) {{", "      " + push, "    }", "  }", "}"]
        return body
    if f.optional:
        if cond == "true":
            return [f"{e} = {r}.nullable_{f.elem}(flexible);"]
        return [f"if ({cond}) {{", f"  {e} = {r}.nullable_{f.elem}(flexible);", "} else {",
                f"  {e} = {r}.{f.elem}(flexible);", "}"]
    return [read_scalar_into(f, e, r)]


def struct_decl(s, msg, conds, ind, is_message=False):
    out = []
    if is_message:
        out += [f"{ind}static constexpr int16_t kApiKey = {msg.api_key};",
                f"{ind}static constexpr int16_t kMinVersion = {msg.versions.lo};",
                f"{ind}static constexpr int16_t kMaxVersion = {msg.versions.hi};",
                f"{ind}static constexpr int16_t kFirstFlexibleVersion = {msg.first_flexible};", ""]
        for nested in struct_order(msg):
            out += [f"{ind}struct {nested.name} {{"] + struct_decl(nested, msg, conds, ind + "  ") + [f"{ind}}};", ""]
    for f in s.fields:
        d = default_value(f)
        out.append(f"{ind}{cpp_type(f)} {f.name}" + (f" = {d};" if d is not None else ";"))
    if s.fields:
        out.append("")
    out += [f"{ind}void encode(Writer& w, int16_t version) const;"]
    if is_message:
        out += [f"{ind}// Reads the body; on malformed input r.ok() turns false. Fields absent from",
                f"{ind}// `version` keep their defaults. Unknown tagged fields are skipped."]
    out += [f"{ind}void decode(Reader& r, int16_t version);"]
    if not contains_records(s, set()):
        out.append(f"{ind}bool operator==(const {s.name}&) const = default;")
    return out


def contains_records(s, seen):
    if s in seen:
        return False
    seen.add(s)
    return any(f.elem == "records" or (f.struct is not None and contains_records(f.struct, seen))
               for f in s.fields)


def struct_order(msg):
    """Nested and named structs, each after the structs its fields use."""
    order, seen = [], set()

    def visit(s):
        if s in seen:
            return
        seen.add(s)
        for f in s.fields:
            if f.struct is not None:
                visit(f.struct)
        order.append(s)

    for s in msg.named:
        visit(s)
    for f in msg.fields:
        if f.struct is not None:
            visit(f.struct)
    return order


def struct_bodies(s, qual, msg, conds):
    tagged = sorted((f for f in s.fields if f.tag is not None and conds.of(f.tagged) != "false"),
                    key=lambda f: f.tag)
    flex = f"version >= {msg.name}::kFirstFlexibleVersion"
    enc = [f"void {qual}::encode(Writer& w, [[maybe_unused]] int16_t version) const {{",
           f"  [[maybe_unused]] const bool flexible = {flex};"]
    dec = [f"void {qual}::decode(Reader& r, [[maybe_unused]] int16_t version) {{",
           f"  [[maybe_unused]] const bool flexible = {flex};"]
    for f in s.fields:
        cond = conds.regular(f)
        nullable = conds.nullable(f)
        enc += _guard(cond, encode_field(f, "w", nullable), "  ")
        dec += _guard(cond, decode_field(f, "r", nullable), "  ")
    if msg.flexible.empty():
        return enc + ["}"], dec + ["}"]
    if not tagged:
        enc += ["  if (flexible) w.empty_tagged_fields();"]
        dec += ["  if (flexible) r.skip_tagged_fields();"]
        return enc + ["}"], dec + ["}"]
    enc += ["  if (flexible) {", "    uint32_t tags_ = 0;"]
    for f in tagged:
        enc.append(f"    if ({_and(conds.of(f.tagged), not_default(f, f.name))}) ++tags_;")
    enc.append("    w.uvarint(tags_);")
    for f in tagged:
        body = ["OutputBuffer tb_;", "Writer tw_(tb_);"] + encode_field(f, "tw_", conds.nullable(f))
        body += ["const std::string body_ = tb_.flatten();", f"w.uvarint({f.tag});",
                 "w.uvarint(static_cast<uint32_t>(body_.size()));", "w.raw(body_);"]
        enc += _guard(_and(conds.of(f.tagged), not_default(f, f.name)), body, "    ")
    enc += ["  }", "}"]
    dec += ["  if (flexible) {", "    const uint32_t tags_ = r.uvarint();",
            "    for (uint32_t i_ = 0; i_ < tags_ && r.ok(); ++i_) {",
            "      const uint32_t tag_ = r.uvarint();",
            "      const std::string_view body_ = r.raw(r.uvarint());",
            "      if (!r.ok()) break;", "      switch (tag_) {"]
    for f in tagged:
        body = ["Reader tr_(body_);"] + decode_field(f, "tr_", conds.nullable(f))
        body += ["if (!tr_.ok()) r.fail();"]
        dec += [f"        case {f.tag}:"] + _guard(conds.of(f.tagged), body, "          ") + ["          break;"]
    dec += ["        default:", "          break;  // unknown tags are skipped (KIP-482)", "      }",
            "    }", "  }", "}"]
    return enc, dec


def _and(a, b):
    return b if a == "true" else f"({a}) && ({b})"


def emit(msg, stem, schema_rel):
    conds = Conditions(msg)
    head = [f"// Generated by protocol/gen/generate.py from {schema_rel}; do not edit.",
            f"// {msg.name}: {msg.kind} codec, versions {msg.versions}, flexible {msg.flexible}.",
            "#pragma once", "", "#include <cstdint>", "#include <optional>", "#include <string>",
            "#include <vector>", "", '#include "protocol/records.h"', '#include "protocol/wire.h"', "",
            "namespace gregor::protocol::msg {", "", f"struct {msg.name} {{"]
    head += struct_decl(msg, msg, conds, "  ", is_message=True)
    head += ["};", "", "}  // namespace gregor::protocol::msg", ""]
    body = [f"// Generated by protocol/gen/generate.py from {schema_rel}; do not edit.",
            f'#include "protocol/messages/{stem}.h"', "", "#include <string_view>", "",
            "namespace gregor::protocol::msg {", ""]
    for s in struct_order(msg) + [msg]:
        qual = msg.name if s is msg else f"{msg.name}::{s.name}"
        enc, dec = struct_bodies(s, qual, msg, conds)
        body += enc + [""] + dec + [""]
    body += ["}  // namespace gregor::protocol::msg", ""]
    return "\n".join(head), "\n".join(body)
