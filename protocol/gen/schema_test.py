# Tests for the schema parser's error reporting (run by ctest as codegen_schema_test):
# every mistake must name file:line and say what is wrong.
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from schema import SchemaError, parse_file  # noqa: E402

HEAD = "message FooRequest\n  api 99 request\n  versions 0-3\n  flexible 2+\n"


class SchemaErrorsTest(unittest.TestCase):
    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".schema", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return parse_file(f.name), f.name

    def assert_error(self, text, line, fragment):
        with self.assertRaises(SchemaError) as ctx:
            self.parse(text)
        msg = str(ctx.exception)
        self.assertIn(f".schema:{line}:", msg)
        self.assertIn(fragment, msg)

    def test_valid_schema(self):
        msg, _ = self.parse(HEAD + "  field a int32 versions=1+\n  field b []Bar nullable=2+\n"
                            "    field c string tag=0 default=null nullable=2+ versions=2+\n")
        self.assertEqual(msg.name, "FooRequest")
        self.assertEqual([f.name for f in msg.fields], ["a", "b"])
        self.assertEqual(msg.structs["Bar"].fields[0].tag, 0)
        self.assertEqual(str(msg.structs["Bar"].fields[0].tagged), "2+")

    def test_named_struct(self):
        msg, _ = self.parse(HEAD + "  field a []Bar\n  field b Bar versions=2+ tag=1\n\nstruct Bar\n  field x int8\n")
        self.assertIs(msg.fields[0].struct, msg.fields[1].struct)

    def test_unknown_type(self):
        self.assert_error(HEAD + "  field a int33\n", 5, "unknown type 'int33'")

    def test_bad_range(self):
        self.assert_error(HEAD + "  field a int32 versions=4-2\n", 5, "version range")

    def test_nullable_outside_versions(self):
        self.assert_error(HEAD + "  field a string versions=2+ nullable=1+\n", 5, "outside versions")

    def test_nullable_int(self):
        self.assert_error(HEAD + "  field a int32 nullable=0+\n", 5, "cannot be nullable")

    def test_tag_in_classic_version(self):
        self.assert_error(HEAD + "  field a int32 tag=0\n", 5, "non-flexible")

    def test_duplicate_tag(self):
        self.assert_error(HEAD + "  field a int32 versions=2+ tag=0\n  field b int32 versions=2+ tag=0\n",
                          6, "tag 0 already used")

    def test_duplicate_field(self):
        self.assert_error(HEAD + "  field a int32\n  field a int16\n", 6, "duplicate field")

    def test_bad_name(self):
        self.assert_error(HEAD + "  field TopicName string\n", 5, "snake_case")

    def test_unknown_struct(self):
        self.assert_error(HEAD + "  field a []Missing\n", 5, "unknown struct 'Missing'")

    def test_fields_under_primitive(self):
        self.assert_error(HEAD + "  field a int32\n    field b int32\n", 6, "struct-typed")

    def test_default_out_of_range(self):
        self.assert_error(HEAD + "  field a int8 default=300\n", 5, "does not fit int8")

    def test_unknown_attribute(self):
        self.assert_error(HEAD + "  field a int8 nulable=0+\n", 5, "unknown attribute 'nulable'")

    def test_missing_versions(self):
        self.assert_error("message FooRequest\n  api 1 request\n", 1, "no 'versions'")

    def test_tab_indent(self):
        self.assert_error(HEAD + "\tfield a int8\n", 5, "tabs")


if __name__ == "__main__":
    unittest.main()
