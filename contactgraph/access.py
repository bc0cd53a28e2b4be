"""The access policy: who may do what, and which contacts they may see.

Every path asks it: GraphQL fields (through ``OPERATIONS``, looked up by the field
guard), node look-ups, subscriptions (re-asked when an agent's access changes), the
import runner, downloads and agent management. A caller's ``Policy`` is built from its
agent as it is now; nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bson import ObjectId

from .models import Agent, DomainError, ErrorCode, Permission

VIEW = Permission.CONTACT_VIEW
VIEW_OWN = Permission.CONTACT_VIEW_OWN
VIEW_TEAM = Permission.CONTACT_VIEW_TEAM
CREATE = Permission.CONTACT_CREATE
EDIT = Permission.CONTACT_EDIT
DELETE = Permission.CONTACT_DELETE
IMPORT = Permission.CONTACT_IMPORT
EXPORT = Permission.CONTACT_EXPORT
LIBRARY = Permission.LIBRARY_MANAGE
WEBHOOKS = Permission.WEBHOOK_MANAGE
AGENTS = Permission.AGENT_MANAGE


@dataclass(frozen=True)
class Rule:
    """Who may call an operation: a valid token, any one of ``any_of``, and every one of ``all_of``.

    ``scoped`` operations answer (or change) only the contacts the caller may see;
    ``admin`` ones take the server's admin key instead of a token.
    """

    any_of: frozenset[Permission] = frozenset()
    all_of: frozenset[Permission] = frozenset()
    scoped: bool = False
    admin: bool = False
    note: str = ""  # a finer rule the operation applies, for the reader of the table

    def allows(self, held: Iterable[Permission]) -> bool:
        permissions = set(held)
        return (not self.any_of or bool(self.any_of & permissions)) and self.all_of <= permissions

    def describe(self) -> str:
        if self.admin:
            return "the admin key"
        either = " or ".join(sorted(self.any_of))
        parts = [f"({either})" if len(self.any_of) > 1 and self.all_of else either] if self.any_of else []
        parts += sorted(self.all_of)
        return " and ".join(parts) or "a valid token"


def needs(*any_of: Permission, also: Iterable[Permission] = (), scoped: bool = False, note: str = "") -> Rule:
    return Rule(any_of=frozenset(any_of), all_of=frozenset(also), scoped=scoped, note=note)


def noted(rule: Rule, note: str) -> Rule:
    return replace(rule, note=note)


JOBS = "one's own jobs (imports, bulk edits); anyone's with CONTACT_VIEW and CONTACT_IMPORT"
SEGMENT_COUNTS = "contactCount: only contacts the caller may see"
SEGMENTS = "saved filters the workspace shares, like the library"
TOKEN = Rule()
ADMIN_KEY = Rule(admin=True)
SEE = needs(VIEW, VIEW_TEAM, VIEW_OWN, scoped=True)  # what the caller may see of the contacts
EDIT_SEEN = needs(EDIT, scoped=True)  # change contacts the caller may see
JOB = needs(IMPORT, EDIT, note=JOBS)  # an import's job, or a bulk edit's
SEGMENTS_READ = needs(VIEW, VIEW_TEAM, VIEW_OWN, note=SEGMENT_COUNTS)


# The policy as a table: every operation of the served schema and every download route.
# ``tests/test_permission_matrix.py`` calls each of them with every permission profile and
# holds the answers to this table; an operation without a row here fails the schema.
OPERATIONS: Mapping[str, Rule] = {
    # queries
    "me": TOKEN,
    "agents": TOKEN,
    "node": noted(TOKEN, "each kind of node as its `node:<Type>` row says"),
    "statuses": TOKEN,
    "sources": TOKEN,
    "groups": TOKEN,
    "customFields": TOKEN,
    "contact": SEE,
    "contacts": SEE,
    "campaignAudience": SEE,
    "contactBoard": SEE,
    "contactStats": SEE,
    "webhooks": needs(WEBHOOKS),
    "importJob": JOB,
    "importMapping": needs(IMPORT, note="what importContacts would make of a header; nothing is read"),
    "segments": SEGMENTS_READ,
    # node(id:) by the kind of the id
    "node:Contact": SEE,
    "node:StatusChange": SEE,
    "node:Activity": SEE,
    "node:Interaction": SEE,
    "node:Webhook": needs(WEBHOOKS),
    "node:ImportJob": JOB,
    "node:Workspace": TOKEN,
    "node:Agent": TOKEN,
    "node:ContactStatus": TOKEN,
    "node:ContactSource": TOKEN,
    "node:Group": TOKEN,
    "node:CustomField": TOKEN,
    "node:Disposition": TOKEN,
    "node:Segment": SEGMENTS_READ,
    # mutations
    "createWorkspace": ADMIN_KEY,
    "updateWorkspaceSettings": needs(LIBRARY),
    "createAgent": needs(AGENTS, note="never more permissions than the caller holds"),
    "updateAgentPermissions": needs(
        AGENTS, note="never more than the caller holds, nor of an agent holding more"
    ),
    "createApiToken": noted(TOKEN, "one's own; another agent's with AGENT_MANAGE, if it holds no more"),
    "revokeApiToken": noted(TOKEN, "one's own; another agent's with AGENT_MANAGE"),
    "createStatus": needs(LIBRARY),
    "updateStatus": needs(LIBRARY),
    "deleteStatus": needs(LIBRARY),
    "createSource": needs(LIBRARY),
    "updateSource": needs(LIBRARY),
    "deleteSource": needs(LIBRARY),
    "createGroup": needs(LIBRARY),
    "updateGroup": needs(LIBRARY),
    "deleteGroup": needs(LIBRARY),
    "deleteGroups": needs(LIBRARY),
    "assignAgentsToGroup": needs(AGENTS, note="it changes what the agents see"),
    "removeAgentsFromGroup": needs(AGENTS, note="it changes what the agents see"),
    "createDisposition": needs(LIBRARY),
    "updateDisposition": needs(LIBRARY),
    "deleteDisposition": needs(LIBRARY),
    "createCustomField": needs(LIBRARY),
    "updateCustomField": needs(LIBRARY),
    "deleteCustomField": needs(LIBRARY),
    "restoreCustomField": needs(LIBRARY),
    "deleteCustomFields": needs(LIBRARY),
    "purgeCustomField": needs(LIBRARY),
    "createContact": needs(CREATE),
    "updateContact": EDIT_SEEN,
    "deleteContacts": needs(DELETE, scoped=True),
    "addContactsToGroup": EDIT_SEEN,
    "removeContactsFromGroup": EDIT_SEEN,
    "assignContacts": EDIT_SEEN,
    "setContactOptOut": EDIT_SEEN,
    "updateContacts": noted(EDIT_SEEN, "all or nothing; a large one runs as a job"),
    "moveContactStatus": EDIT_SEEN,
    "setContactCustomFields": EDIT_SEEN,
    "upsertContactByPhone": needs(
        CREATE, EDIT, scoped=True, note="creating needs CONTACT_CREATE, changing CONTACT_EDIT"
    ),
    "recordInteraction": noted(EDIT_SEEN, "by a phone no contact holds it creates one: CONTACT_CREATE too"),
    "closeInteraction": EDIT_SEEN,
    "mergeContacts": Rule(all_of=frozenset({EDIT, DELETE}), scoped=True),
    "duplicateContact": needs(CREATE, scoped=True),
    "createWebhook": needs(WEBHOOKS, also=[VIEW], note="a feed of every contact of the workspace"),
    "deleteWebhook": needs(WEBHOOKS),
    "importContacts": needs(
        IMPORT, scoped=True, note="per row: CONTACT_CREATE to create, CONTACT_EDIT to update"
    ),
    "cancelImport": JOB,
    "createSegment": needs(LIBRARY, note=SEGMENTS),
    "updateSegment": needs(LIBRARY, note=SEGMENTS),
    "deleteSegment": needs(LIBRARY, note=SEGMENTS),
    # subscriptions
    "contactStatusChanged": SEE,
    "importProgress": JOB,
    # downloads
    "GET /export/contacts.csv": needs(VIEW, VIEW_TEAM, VIEW_OWN, also=[EXPORT], scoped=True),
    "GET /export/custom-fields.csv": needs(EXPORT),
    "GET /export/groups.csv": needs(EXPORT),
    "GET /imports/{job_id}/errors.csv": JOB,
}


def permissions_table() -> str:
    """``OPERATIONS`` as the README's Markdown table: operations that share a rule on one row."""
    rows: dict[tuple[str, str], list[str]] = {}
    for operation, rule in OPERATIONS.items():
        sight = "only contacts the caller may see" if rule.scoped else ""
        rows.setdefault((rule.describe(), "; ".join(filter(None, [sight, rule.note]))), []).append(operation)
    lines = ["| operations | needs | scope and finer rules |", "| --- | --- | --- |"]
    lines += [
        f"| {', '.join(f'`{o}`' for o in ops)} | {needs} | {more} |" for (needs, more), ops in rows.items()
    ]
    return "\n".join(lines) + "\n"


def rule_of(operation: str) -> Rule:
    """The rule of ``operation``; a name the table lacks is a programming error, caught at start-up."""
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise LookupError(f"access.OPERATIONS has no rule for {operation!r}") from None


def forbidden(rule: Rule) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, f"This needs {rule.describe()}.")


@dataclass(frozen=True)
class Policy:
    """What one caller may do, from its agent as it is now."""

    agent: Agent

    @property
    def workspace_id(self) -> ObjectId:
        return self.agent.workspace_id

    def holds(self, permission: Permission) -> bool:
        return permission in self.agent.permissions

    def allows(self, operation: str) -> bool:
        return rule_of(operation).allows(self.agent.permissions)

    def require(self, operation: str) -> None:
        """``FORBIDDEN`` unless the caller may do ``operation``."""
        rule = rule_of(operation)
        if not rule.allows(self.agent.permissions):
            raise forbidden(rule)

    def require_permission(self, permission: Permission, doing: str) -> None:
        if not self.holds(permission):
            raise DomainError(ErrorCode.FORBIDDEN, f"{doing} needs the {permission.value} permission.")

    # ---------------------------------------------------------------- contacts

    @property
    def sees_all(self) -> bool:
        return self.holds(VIEW)

    @property
    def team(self) -> frozenset[ObjectId]:
        """The lists whose contacts the caller sees besides its own (CONTACT_VIEW_TEAM)."""
        if self.sees_all or not self.holds(VIEW_TEAM):
            return frozenset()
        return frozenset(self.agent.group_ids)

    @property
    def own_agent_id(self) -> ObjectId | None:
        """Set when the caller sees only some contacts: those assigned to it, and its team's."""
        return None if self.sees_all else self.agent.id

    def contact_filter(self) -> dict[str, Any]:
        """The contacts the caller may see, as the query every read and write of contacts starts from.

        Callers add conditions beside it (any key but ``$and``) or combine it under ``$and``.
        """
        scope: dict[str, Any] = {"workspace_id": self.workspace_id}
        if self.sees_all:
            return scope
        if self.team:
            own = {"assigned_agent_id": self.agent.id}
            scope["$and"] = [{"$or": [own, {"group_ids": {"$in": sorted(self.team)}}]}]
        else:
            scope["assigned_agent_id"] = self.agent.id
        return scope

    def sees(self, contact: Mapping[str, Any]) -> bool:
        """Whether a stored contact (a document, or an event's snapshot of one) is in the caller's sight."""
        return contact.get("workspace_id") == self.workspace_id and in_sight(
            contact, self.own_agent_id, self.team
        )

    # ---------------------------------------------------------------- agents and jobs

    def beyond(self, permissions: Iterable[Permission]) -> list[Permission]:
        """What of ``permissions`` the caller does not hold: nobody grants, or mints a token
        for an agent holding, more than they hold themselves."""
        return sorted(set(permissions) - set(self.agent.permissions))

    def may_read_import_job(self, job: Any) -> bool:
        """``import_job_filter`` asked of one job already read."""
        mine = job.workspace_id == self.workspace_id and job.agent_id == self.agent.id
        return mine or (job.workspace_id == self.workspace_id and self.holds(VIEW) and self.holds(IMPORT))

    def import_job_filter(self) -> dict[str, Any]:
        """The import jobs the caller may read: its own, or every one with CONTACT_VIEW and CONTACT_IMPORT."""
        scope: dict[str, Any] = {"workspace_id": self.workspace_id}
        if not (self.holds(VIEW) and self.holds(IMPORT)):
            scope["agent_id"] = self.agent.id
        return scope


def in_sight(contact: Mapping[str, Any], own_agent_id: ObjectId | None, team: frozenset[ObjectId]) -> bool:
    """The sight rule on a stored contact: everyone's (no ``own_agent_id``), or its own and its team's."""
    if own_agent_id is None or contact.get("assigned_agent_id") == own_agent_id:
        return True
    return not team.isdisjoint(contact.get("group_ids") or ())


def policy_of(agent: Agent) -> Policy:
    return Policy(agent)


def contact_scope(agent: Agent) -> dict[str, Any]:
    """The contacts ``agent`` may see, as a query (``Policy.contact_filter``)."""
    return Policy(agent).contact_filter()
