"""boto3: GetRandomPassword (spec §3.14, case 55)."""

import string

from boto3_common import check, eq, eq_members, expect_error, run

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
ALPHABET = set(string.ascii_uppercase + string.ascii_lowercase + string.digits + PUNCTUATION)


def _password(c, **kwargs):
    response = c.get_random_password(**kwargs)
    eq_members(response, ["RandomPassword"], f"GetRandomPassword({kwargs})")
    return response["RandomPassword"]


def _has(password, characters):
    return any(ch in characters for ch in password)


def scenario_case55_length_and_excluded_characters(c):
    for _ in range(5):
        password = _password(c, PasswordLength=120, ExcludeCharacters="xyzDje@?!.")
        eq(len(password), 120, "length with PasswordLength=120")
        eq(sorted(set(password) & set("xyzDje@?!.")), [], "excluded characters present")
        eq(sorted(set(password) - ALPHABET), [], "characters outside the default alphabet")


def scenario_case55_default_password(c):
    seen = set()
    for _ in range(10):
        password = _password(c)
        eq(len(password), 32, "default length")
        eq(sorted(set(password) - ALPHABET), [], "characters outside the default alphabet (no space by default)")
        for label, characters in (("uppercase", string.ascii_uppercase), ("lowercase", string.ascii_lowercase),
                                  ("digit", string.digits), ("punctuation", PUNCTUATION)):
            check(_has(password, characters), f"a default password includes at least one {label} character", len(password))
        seen.add(password)
    eq(len(seen), 10, "ten default passwords are all different")


def scenario_excluded_types(c):
    password = _password(c, PasswordLength=64, ExcludePunctuation=True)
    eq(sorted(set(password) - set(string.ascii_letters + string.digits)), [], "ExcludePunctuation leaves letters and digits only")
    password = _password(c, PasswordLength=64, ExcludeNumbers=True, ExcludeUppercase=True)
    eq(sorted(set(password) & set(string.digits + string.ascii_uppercase)), [], "ExcludeNumbers + ExcludeUppercase")
    check(_has(password, string.ascii_lowercase) and _has(password, PUNCTUATION), "lowercase and punctuation still required", len(password))
    password = _password(c, PasswordLength=40, ExcludeLowercase=True, ExcludePunctuation=True, ExcludeUppercase=True)
    eq(sorted(set(password) - set(string.digits)), [], "digits only")
    password = _password(c, PasswordLength=200, IncludeSpace=True)
    eq(sorted(set(password) - ALPHABET - {" "}), [], "IncludeSpace adds only the space")
    password = _password(c, PasswordLength=1, RequireEachIncludedType=False)
    eq(len(password), 1, "PasswordLength=1 without RequireEachIncludedType")
    expect_error("InvalidParameterException", None, c.get_random_password, PasswordLength=3)


if __name__ == "__main__":
    run(globals())
