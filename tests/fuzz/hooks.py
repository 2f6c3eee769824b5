"""Schemathesis hooks of the contract fuzzer (tests/fuzz/schemathesis.toml names this file).

What a JSON Schema cannot state about the API's input, and the one property the fuzzer exists
for: a request the document calls valid is never refused as malformed.
"""

import datetime
import json
import os
import time
import pathlib
import urllib.request

import schemathesis
from hypothesis.internal import lambda_sources
from schemathesis import GenerationMode

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _describe_lambdas_safely():
    """Works around a CPython 3.11 bug (the machine's python3 is 3.11.7): `ast.parse`, called deep
    in a stack whose recursion limit Hypothesis raised, can fail with "SystemError: AST constructor
    recursion depth mismatch". Hypothesis parses a module's source only to describe a lambda in a
    strategy's repr, and schemathesis's generators get there deep in generation, so the bug stopped
    an operation's coverage phase with a Runtime Error. A lambda that cannot be described is shown
    as Hypothesis shows one it cannot find the source of.
    """
    describe = lambda_sources._lambda_description

    def described(f, *args, **kwargs):
        try:
            return describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = described


_describe_lambdas_safely()

# The new-password fields. Besides its length (which the document states), a new password must
# not be one of the common passwords (compared lower-cased, src/core/passwords/password.rs): a list of 3,903
# that no JSON Schema keyword can carry, though the document names it. Generated valid data that
# happens to be one ("00000000", "aaaaaaaa" are the shortest strings a generator likes) is
# dropped, not sent.
NEW_PASSWORD_FIELDS = {
    ("POST", "/register"): "password",
    ("POST", "/update-password"): "new_password",
    ("POST", "/change-password"): "new_password",
    ("POST", "/admin/users"): "password",
}
COMMON_PASSWORDS = frozenset((ROOT / "src/core/passwords/common_passwords.txt").read_text().split("\n"))


# A `verification_token` (POST /verify-email, /resend-verification) is a credential the login
# issues: a string the fuzzer makes up is not live, and the worker refuses it (400
# validation_failed, as the document says). Generated valid data carrying one is dropped too.
def _unsendable_as_valid(case):
    meta = case.meta
    body = case.body
    if (meta is not None and meta.generation.mode != GenerationMode.POSITIVE) or not isinstance(body, dict):
        return False
    if isinstance(body.get("verification_token"), str):
        return True
    # A disable's `until` must be in the future, which no schema can say.
    if case.path == "/admin/users/{id}/disable" and isinstance(body.get("until"), str):
        try:
            until = datetime.datetime.fromisoformat(body["until"].replace("Z", "+00:00"))
            if until.tzinfo is None or until.timestamp() <= time.time() + 60:
                return True
        except ValueError:
            return True
    if (case.method.upper(), case.path) in ROLE_FIELDS:
        role = body.get("role")
        if isinstance(role, str) and role not in BUILT_IN_ROLES:
            return True
        if case.path == "/organizations/{id}/invitations" and body.get("teams"):
            return True
    field = NEW_PASSWORD_FIELDS.get((case.method.upper(), case.path))
    value = body.get(field) if field else None
    return isinstance(value, str) and value.lower() in COMMON_PASSWORDS


# An organization role (`role`) is one the deployment defines: owner, admin, member, and those of
# ORG_ROLES, which the fuzzer's deployments leave unset. The document states only a role name's
# shape (components/schemas/RoleName), as it must for every deployment; another name is refused
# (400 validation_failed), and so are an invitation's `teams` naming no team of the organization
# (the fuzzer cannot know one). Generated valid data carrying either is dropped.
ROLE_FIELDS = {
    ("PATCH", "/organizations/{id}/members/{user_id}"),
    ("POST", "/organizations/{id}/invitations"),
    ("PUT", "/organizations/{id}/teams/{team_id}/members/{user_id}"),
    ("PATCH", "/admin/organizations/{id}/members/{user_id}"),
}
BUILT_IN_ROLES = frozenset({"owner", "admin", "member"})


# The admin API's changes (disable, delete, end sessions, edit…) on the run's own two users would
# leave every later request of the run a 401: generated cases that aim one at them are dropped.
PROTECTED_IDS = {i for i in os.environ.get("FUZZ_PROTECTED_IDS", "").split(",") if i}


def _hits_a_protected_user(case):
    if not case.path.startswith("/admin/users/{id}") or case.method.upper() == "GET":
        return False
    return str((case.path_parameters or {}).get("id")) in PROTECTED_IDS


@schemathesis.hook
def filter_case(context, case):
    return not _unsendable_as_valid(case) and not _hits_a_protected_user(case)


# The examples phase builds its cases from the document's examples without the filter above.
@schemathesis.hook
def before_add_examples(context, examples):
    examples[:] = [case for case in examples if not _unsendable_as_valid(case)]


@schemathesis.check
def valid_data_is_never_refused_as_malformed(ctx, response, case):
    """A request the document calls valid never gets `invalid_json` or `validation_failed`.

    Stricter than positive_data_acceptance where the API answers 400 for a well-formed request
    (a wrong emailed code is 400 invalid_code, by the Flask API's contract): the error code tells
    "your code is wrong" from "your request is malformed".
    """
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or response.status_code != 400:
        return None
    try:
        error = json.loads(response.text).get("error")
    except (ValueError, AttributeError):
        error = None
    if error in ("invalid_json", "validation_failed"):
        raise AssertionError(
            f"A request the document calls valid was refused as malformed: {response.status_code} {response.text}"
        )
    return None


def _login(email, password):
    request = urllib.request.Request(
        f"{os.environ['FUZZ_BASE_URL']}/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["token"]


# The routes that end the session of the token they carry: POST /logout (every session with
# ?scope=all), and DELETE /sessions/{id} of an id the stateful phase took from GET /sessions.
# Run with the one token of the run, they would leave every later request a 401. Each of their
# requests signs in afresh instead (refresh_interval=None: no caching), as a user of its own, so
# that `scope=all` ends none of the main user's sessions, and an id of the main user's sessions
# is another user's (404: object-level authorization holds).
SESSION_ENDING = {("post", "/logout"), ("delete", "/sessions/{id}")}


def _secured(ctx):
    return bool(ctx.operation.definition.raw.get("security"))


def _admin(ctx):
    return any("adminKey" in s for s in ctx.operation.definition.raw.get("security") or [])


def _ends_its_session(ctx):
    return (ctx.operation.method.lower(), ctx.operation.path) in SESSION_ENDING


def _bearer(case, token):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.auth(refresh_interval=None).apply_to(_ends_its_session)
class FreshSession:
    def get(self, case, context):
        return _login(os.environ["FUZZ_SESSIONS_EMAIL"], os.environ["FUZZ_SESSIONS_PASSWORD"])

    def set(self, case, data, context):
        _bearer(case, data)


# Every other route that asks for a token carries the main user's (tests/fuzz/serve.mjs signs it
# in); the public routes carry none.
@schemathesis.auth(refresh_interval=None).apply_to(_admin)
class AdminKey:
    def get(self, case, context):
        return os.environ["FUZZ_ADMIN_KEY"]

    def set(self, case, data, context):
        _bearer(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(
    lambda ctx: _secured(ctx) and not _ends_its_session(ctx) and not _admin(ctx)
)
class MainSession:
    def get(self, case, context):
        return os.environ["FUZZ_TOKEN"]

    def set(self, case, data, context):
        _bearer(case, data)
