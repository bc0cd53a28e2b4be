"""The access policy as a matrix: every operation, download and kind of node, against every profile.

``contactgraph.access.OPERATIONS`` is the table. Each operation here is called, through
the public surface, by an agent of each permission profile, and its answer is held to the
table: refused (``FORBIDDEN``, HTTP 403) exactly when the rule does not allow the profile,
and, for scoped operations, nothing of a contact outside the caller's sight in the answer
nor changed in the database. The table must name exactly the served operations, so an
operation added to the schema without a row fails here (and at start-up).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from bson import ObjectId
from graphql import build_schema

from contactgraph.access import OPERATIONS, Rule
from contactgraph.db import Engine
from contactgraph.ids import encode_id
from contactgraph.models import Contact, Permission
from contactgraph.schema import build_schema as build_served_schema
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import oid
from .csv_api import csv_bytes, finished, upload
from .ws import TRANSPORT_WS, serve

ALL = list(Permission)
PROFILES: dict[str, list[Permission]] = {
    "none": [],
    **{p.value: [p] for p in Permission},
    "VIEW_OWN+EDIT": [Permission.CONTACT_VIEW_OWN, Permission.CONTACT_EDIT],
    "all": ALL,
}
DOWNLOADS = {
    "GET /export/contacts.csv": "/export/contacts.csv",
    "GET /export/custom-fields.csv": "/export/custom-fields.csv",
    "GET /export/groups.csv": "/export/groups.csv",
    "GET /imports/{job_id}/errors.csv": "/imports/{job}/errors.csv",
}
NODE_KINDS = [name.removeprefix("node:") for name in OPERATIONS if name.startswith("node:")]


@dataclass
class World:
    """What the operations act on; ``contact`` is assigned to nobody, so only CONTACT_VIEW sees it."""

    workspace: Workspace
    library: Library
    field: str
    contact: dict[str, Any]
    other: dict[str, Any]
    change: str
    interaction: str
    webhook: str
    disposition: str
    segment: str
    activity: str
    agent_ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def variables(self, profile: str) -> dict[str, Any]:
        lib = self.library
        return {
            "contact": self.contact["id"],
            "other": self.other["id"],
            "status": lib.statuses[0],
            "status2": lib.statuses[1],
            "source": lib.sources[0],
            "group": lib.groups[0],
            "field": self.field,
            "interaction": self.interaction,
            "webhook": self.webhook,
            "disposition": self.disposition,
            "segment": self.segment,
            "me": self.agent_ids[profile],
            "job": encode_id("ImportJob", ObjectId()),
            "phone": phone(500 + list(PROFILES).index(profile)),
        }


@dataclass
class Call:
    """One operation's document; ``allowed`` overrides the table where a finer rule of the same row applies."""

    document: str
    scoped_check: Callable[[dict[str, Any], World], bool] | None = (
        None  # whether the answer shows ``contact``
    )
    allowed: Callable[[set[Permission]], bool] | None = None


def shows(data: dict[str, Any], world: World) -> bool:
    return world.contact["id"] in json.dumps(data)


def counted(data: dict[str, Any], world: World) -> bool:
    return sum(bucket["count"] for bucket in data["contactStats"]) > 0


P = "userErrors { code field }"
CALLS: dict[str, Call] = {
    "me": Call("{ me { id } }"),
    "agents": Call("{ agents { id } }"),
    "node": Call("query($me: ID!) { node(id: $me) { id } }"),
    "statuses": Call("{ statuses { id } }"),
    "sources": Call("{ sources { id } }"),
    "groups": Call("{ groups { id } }"),
    "customFields": Call("{ customFields { id } }"),
    "contact": Call("query($contact: ID!) { contact(id: $contact) { id } }", shows),
    "contacts": Call("{ contacts { edges { node { id } } } }", shows),
    "campaignAudience": Call("{ campaignAudience { edges { node { id } } } }", shows),
    "contactBoard": Call("{ contactBoard { contacts { edges { node { id } } } } }", shows),
    "contactStats": Call("{ contactStats(groupBy: STATUS) { count } }", counted),
    "webhooks": Call("{ webhooks { id } }"),
    "importJob": Call("query($job: ID!) { importJob(id: $job) { id } }"),
    "importMapping": Call('{ importMapping(header: ["phone"]) { columns { column field } } }'),
    "updateWorkspaceSettings": Call(
        f"mutation($status: ID!) {{ updateWorkspaceSettings(input: {{inboundStatusId: $status}}) {{ {P} }} }}"
    ),
    "createAgent": Call(
        f"""mutation($phone: String!) {{ createAgent(input: {{name: "New", email: $phone, permissions: []}})
        {{ {P} }} }}"""
    ),
    "updateAgentPermissions": Call(
        f"mutation($me: ID!) {{ updateAgentPermissions(id: $me, permissions: []) {{ {P} }} }}"
    ),
    "createApiToken": Call(f'mutation($me: ID!) {{ createApiToken(agentId: $me, name: "x") {{ {P} }} }}'),
    "revokeApiToken": Call(f'mutation {{ revokeApiToken(token: "cg_unknown") {{ {P} }} }}'),
    "createStatus": Call(
        f'mutation($phone: String!) {{ createStatus(input: {{name: $phone, color: "#000000"}}) {{ {P} }} }}'
    ),
    "updateStatus": Call(
        f'mutation($status: ID!) {{ updateStatus(id: $status, input: {{name: "S"}}) {{ {P} }} }}'
    ),
    "deleteStatus": Call(
        f"mutation($status: ID!, $status2: ID!) {{ deleteStatus(id: $status, moveContactsTo: $status2) {{ {P} }} }}"
    ),
    "createSource": Call(f"mutation($phone: String!) {{ createSource(input: {{name: $phone}}) {{ {P} }} }}"),
    "updateSource": Call(
        f'mutation($source: ID!) {{ updateSource(id: $source, input: {{name: "S"}}) {{ {P} }} }}'
    ),
    "deleteSource": Call(f"mutation($source: ID!) {{ deleteSource(id: $source) {{ {P} }} }}"),
    "createGroup": Call(f"mutation($phone: String!) {{ createGroup(input: {{name: $phone}}) {{ {P} }} }}"),
    "updateGroup": Call(
        f'mutation($group: ID!) {{ updateGroup(id: $group, input: {{name: "G"}}) {{ {P} }} }}'
    ),
    "deleteGroup": Call(f"mutation($group: ID!) {{ deleteGroup(id: $group) {{ {P} }} }}"),
    "deleteGroups": Call(f"mutation($group: ID!) {{ deleteGroups(ids: [$group]) {{ {P} }} }}"),
    "assignAgentsToGroup": Call(
        f"mutation($group: ID!, $me: ID!) {{ assignAgentsToGroup(groupId: $group, agentIds: [$me]) {{ {P} }} }}"
    ),
    "removeAgentsFromGroup": Call(
        f"mutation($group: ID!, $me: ID!) {{ removeAgentsFromGroup(groupId: $group, agentIds: [$me]) {{ {P} }} }}"
    ),
    "createDisposition": Call(
        f"mutation($group: ID!, $phone: String!) {{ createDisposition(input: {{groupId: $group, name: $phone}})"
        f" {{ {P} }} }}"
    ),
    "updateDisposition": Call(
        f'mutation($disposition: ID!) {{ updateDisposition(id: $disposition, input: {{name: "D"}}) {{ {P} }} }}'
    ),
    "deleteDisposition": Call(
        f"mutation($disposition: ID!) {{ deleteDisposition(id: $disposition) {{ {P} }} }}"
    ),
    "createCustomField": Call(
        f"""mutation {{ createCustomField(input: {{key: "k", label: "K", type: TEXT}}) {{ {P} }} }}"""
    ),
    "updateCustomField": Call(
        f'mutation($field: ID!) {{ updateCustomField(id: $field, input: {{label: "L"}}) {{ {P} }} }}'
    ),
    "deleteCustomField": Call(f"mutation($field: ID!) {{ deleteCustomField(id: $field) {{ {P} }} }}"),
    "restoreCustomField": Call(f"mutation($field: ID!) {{ restoreCustomField(id: $field) {{ {P} }} }}"),
    "deleteCustomFields": Call(f"mutation($field: ID!) {{ deleteCustomFields(ids: [$field]) {{ {P} }} }}"),
    "purgeCustomField": Call(f"mutation($field: ID!) {{ purgeCustomField(id: $field) {{ {P} }} }}"),
    "createContact": Call(
        f"""mutation($phone: String!, $status: ID!, $source: ID!) {{ createContact(input: {{firstname: "N",
        lastname: "N", phone: $phone, statusId: $status, sourceId: $source}}) {{ {P} }} }}"""
    ),
    "updateContact": Call(
        f'mutation($contact: ID!) {{ updateContact(id: $contact, input: {{firstname: "X"}}) {{ {P} }} }}',
        shows,
    ),
    "deleteContacts": Call(
        f"mutation($contact: ID!) {{ deleteContacts(ids: [$contact]) {{ deletedIds {P} }} }}", shows
    ),
    "addContactsToGroup": Call(
        f"mutation($group: ID!, $contact: ID!) {{ addContactsToGroup(groupId: $group, contactIds: [$contact])"
        f" {{ count {P} }} }}"
    ),
    "removeContactsFromGroup": Call(
        f"mutation($group: ID!, $contact: ID!) {{ removeContactsFromGroup(groupId: $group, contactIds: [$contact])"
        f" {{ count {P} }} }}"
    ),
    "assignContacts": Call(
        f"mutation($me: ID!, $contact: ID!) {{ assignContacts(contactIds: [$contact], agentId: $me) {{ count {P} }} }}"
    ),
    "setContactOptOut": Call(
        f"mutation($contact: ID!) {{ setContactOptOut(id: $contact, optedOut: true) {{ contact {{ id }} {P} }} }}",
        shows,
    ),
    "moveContactStatus": Call(
        f"mutation($contact: ID!, $status2: ID!) {{ moveContactStatus(contactId: $contact, statusId: $status2)"
        f" {{ contact {{ id }} {P} }} }}",
        shows,
    ),
    "setContactCustomFields": Call(
        f'mutation($contact: ID!) {{ setContactCustomFields(contactId: $contact, values: [{{key: "note", value: "v"}}])'
        f" {{ contact {{ id }} {P} }} }}",
        shows,
    ),
    "upsertContactByPhone": Call(
        f"mutation($phone: String!) {{ upsertContactByPhone(input: {{phone: $phone}}) {{ {P} }} }}",
        allowed=lambda held: Permission.CONTACT_CREATE in held,  # a new number: creating needs CREATE
    ),
    "recordInteraction": Call(
        f"""mutation($contact: ID!) {{ recordInteraction(input: {{channel: "whatsapp", direction: "inbound",
        contactId: $contact}}) {{ interaction {{ id contact {{ id }} }} {P} }} }}""",
        shows,
    ),
    "closeInteraction": Call(
        f"mutation($interaction: ID!) {{ closeInteraction(id: $interaction) {{ interaction {{ id contact {{ id }} }} {P} }} }}",
        shows,
    ),
    "mergeContacts": Call(
        f"mutation($contact: ID!, $other: ID!) {{ mergeContacts(primaryId: $contact, secondaryId: $other)"
        f" {{ contact {{ id }} {P} }} }}",
        shows,
    ),
    "duplicateContact": Call(
        f"mutation($contact: ID!, $phone: String!) {{ duplicateContact(id: $contact, input: {{phone: $phone}})"
        f" {{ contact {{ id }} {P} }} }}"
    ),
    "createWebhook": Call(
        f"""mutation {{ createWebhook(input: {{url: "https://93.184.215.14/hook", events: [CONTACT_CREATED]}})
        {{ {P} }} }}"""
    ),
    "deleteWebhook": Call(f"mutation($webhook: ID!) {{ deleteWebhook(id: $webhook) {{ {P} }} }}"),
    "cancelImport": Call(f"mutation($job: ID!) {{ cancelImport(id: $job) {{ {P} }} }}"),
    "segments": Call("{ segments { id contactCount } }"),
    "createSegment": Call(
        f"mutation($phone: String!) {{ createSegment(input: {{name: $phone, filter: {{}}}}) {{ {P} }} }}"
    ),
    "updateSegment": Call(
        f'mutation($segment: ID!) {{ updateSegment(id: $segment, input: {{name: "S", filter: {{}}}}) {{ {P} }} }}'
    ),
    "deleteSegment": Call(f"mutation($segment: ID!) {{ deleteSegment(id: $segment) {{ {P} }} }}"),
    "updateContacts": Call(
        f"mutation($contact: ID!, $status2: ID!) {{ updateContacts(ids: [$contact], patch: {{statusId: $status2}})"
        f" {{ count {P} }} }}",
        shows,
    ),
}
SUBSCRIPTIONS = {
    "contactStatusChanged": "subscription { contactStatusChanged { contact { id } } }",
    "importProgress": "subscription($job: ID!) { importProgress(jobId: $job) { id } }",
}
NODE_IDS: dict[str, Callable[[World], str]] = {
    "Contact": lambda w: w.contact["id"],
    "StatusChange": lambda w: w.change,
    "Activity": lambda w: w.activity,
    "Segment": lambda w: w.segment,
    "Interaction": lambda w: w.interaction,
    "Webhook": lambda w: w.webhook,
    "ImportJob": lambda w: "",  # made by the test: an import of the admin's
    "Workspace": lambda w: w.workspace.id,
    "Agent": lambda w: w.workspace.agent_id,
    "ContactStatus": lambda w: w.library.statuses[0],
    "ContactSource": lambda w: w.library.sources[0],
    "Group": lambda w: w.library.groups[0],
    "CustomField": lambda w: w.field,
    "Disposition": lambda w: w.disposition,
}
IMPORT_FILE = csv_bytes([["firstname", "lastname", "phone"], ["Imp", "Orted", phone(900)]])


def import_options(library: Library) -> dict[str, Any]:
    return {"dryRun": True, "defaultStatusId": library.statuses[0], "defaultSourceId": library.sources[0]}


SPECIAL = {
    "createWorkspace",
    "importContacts",
}  # the admin key; a multipart upload: tested on their own below


def served_operations() -> set[str]:
    sdl = build_served_schema(Settings()).as_str()
    schema = build_schema(sdl)
    names = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        names |= set(root.fields)
    return names


def expected(rule: Rule, held: list[Permission], call: Call | None = None) -> bool:
    if call is not None and call.allowed is not None:
        return rule.allows(held) and call.allowed(set(held))
    return rule.allows(held)


async def make_world(api: Api, workspace: Workspace, library: Library) -> World:
    field_id = (await make_custom_field(api, workspace, "note", "TEXT"))["id"]
    contact = await make_contact(api, workspace, library, phone=phone(1))
    other = await make_contact(api, workspace, library, phone=phone(2), firstname="Bo")
    await api.ok(
        "mutation($id: ID!, $s: ID!) { moveContactStatus(contactId: $id, statusId: $s) { userErrors { code } } }",
        {"id": contact["id"], "s": library.statuses[1]},
        workspace.token,
    )
    history = await api.data(
        "query($id: ID!) { contact(id: $id) { statusHistory { edges { node { id } } } activity { edges { node { id } } } } }",
        {"id": contact["id"]},
        workspace.token,
    )
    interaction = await api.ok(
        """mutation($id: ID!) { recordInteraction(input: {channel: "whatsapp", direction: "inbound",
        contactId: $id, open: true}) { interaction { id } userErrors { code } } }""",
        {"id": contact["id"]},
        workspace.token,
    )
    webhook = await api.ok(
        """mutation { createWebhook(input: {url: "https://93.184.215.14/hook", events: [CONTACT_CREATED]})
        { webhook { id } userErrors { code } } }""",
        None,
        workspace.token,
    )
    disposition = await api.ok(
        """mutation($group: ID!) { createDisposition(input: {groupId: $group, name: "Sold"})
        { disposition { id } userErrors { code } } }""",
        {"group": library.groups[0]},
        workspace.token,
    )
    segment = await api.ok(
        'mutation { createSegment(input: {name: "All", filter: {}}) { segment { id } userErrors { code } } }',
        None,
        workspace.token,
    )
    world = World(
        workspace=workspace,
        library=library,
        field=field_id,
        contact=contact,
        other=other,
        change=history["contact"]["statusHistory"]["edges"][0]["node"]["id"],
        interaction=interaction["interaction"]["id"],
        webhook=webhook["webhook"]["id"],
        disposition=disposition["disposition"]["id"],
        segment=segment["segment"]["id"],
        activity=history["contact"]["activity"]["edges"][0]["node"]["id"],
    )
    for index, (name, permissions) in enumerate(PROFILES.items()):
        world.agent_ids[name], world.tokens[name] = await api.agent_token(
            workspace, [p.value for p in permissions], email=f"profile{index}@example.com"
        )
    return world


def refused_in(body: dict[str, Any]) -> bool:
    """Whether an answer carries a FORBIDDEN, as a top-level error or a payload's user error."""
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            codes += [e["code"] for e in payload.get("userErrors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes and "UNAUTHENTICATED" not in codes, body
    return "FORBIDDEN" in codes


def test_the_table_names_every_served_operation_download_and_node_kind() -> None:
    # every root field, every download route, every kind of node: each has a row, and a call here
    served = served_operations()
    assert {name for name in OPERATIONS if not name.startswith(("node:", "GET "))} == served
    assert {name for name in OPERATIONS if name.startswith("GET ")} == set(DOWNLOADS)
    assert set(NODE_KINDS) == set(NODE_IDS)
    assert served == set(CALLS) | set(SUBSCRIPTIONS) | SPECIAL


@pytest.mark.parametrize("operation", sorted(CALLS))
async def test_each_operation_answers_each_profile_as_the_table_says(
    operation: str, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    rule, call = OPERATIONS[operation], CALLS[operation]
    before = await Contact.get(oid(world.contact["id"]))
    # when each profile calls it (those with CONTACT_VIEW last: they may change what the others act on)
    answers = {}
    for name in sorted(PROFILES, key=lambda n: Permission.CONTACT_VIEW in PROFILES[n]):
        response = await api.post(call.document, world.variables(name), world.tokens[name])
        assert response.status_code == 200, response.text
        answers[name] = response.json()
        if call.scoped_check is not None and Permission.CONTACT_VIEW not in PROFILES[name]:
            assert await Contact.get(oid(world.contact["id"])) == before, (
                name,
                "changed a contact out of sight",
            )
    # then
    for name, body in answers.items():
        held = PROFILES[name]
        allowed = expected(rule, held, call)
        assert refused_in(body) is not allowed, (name, body)
        if allowed and call.scoped_check is not None and Permission.CONTACT_VIEW not in held:
            assert not call.scoped_check(body["data"], world), (name, "sees a contact out of sight", body)
        if allowed and operation in {
            "contact",
            "contacts",
            "campaignAudience",
            "contactBoard",
            "contactStats",
        }:
            assert call.scoped_check is not None
            assert call.scoped_check(body["data"], world) is (Permission.CONTACT_VIEW in held), (name, body)


@pytest.mark.parametrize("kind", NODE_KINDS)
async def test_each_kind_of_node_answers_each_profile_as_the_table_says(
    kind: str, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    node_id = NODE_IDS[kind](world)
    if kind == "ImportJob":  # an import of the admin's
        response = await upload(api.client, workspace.token, IMPORT_FILE, import_options(library))
        assert response.json()["data"]["importContacts"]["userErrors"] == [], response.text
        node_id = response.json()["data"]["importContacts"]["job"]["id"]
        await finished(api, workspace.token, node_id)
    rule = OPERATIONS[f"node:{kind}"]
    for name, held in PROFILES.items():
        # when
        data = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, world.tokens[name])
        # then
        visible = rule.allows(held) and (not rule.scoped or Permission.CONTACT_VIEW in held)
        if kind == "ImportJob":  # not the caller's own job: only CONTACT_VIEW with CONTACT_IMPORT reads it
            visible = visible and Permission.CONTACT_VIEW in held
        assert (data["node"] is not None) is visible, (name, data)


@pytest.mark.parametrize("download", sorted(DOWNLOADS))
async def test_each_download_answers_each_profile_as_the_table_says(
    download: str, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    rule = OPERATIONS[download]
    path = DOWNLOADS[download].format(job=encode_id("ImportJob", ObjectId()))
    for name, held in PROFILES.items():
        # when
        response = await api.client.get(path, headers={"Authorization": f"Bearer {world.tokens[name]}"})
        # then
        assert (response.status_code == 403) is not rule.allows(held), (name, response.text)
        assert response.status_code in (200, 403, 404), (name, response.text)
        if response.status_code == 200 and download == "GET /export/contacts.csv":
            assert (world.contact["phone"] in response.text) is (Permission.CONTACT_VIEW in held), name


@pytest.mark.parametrize("operation", sorted(SUBSCRIPTIONS))
async def test_each_subscription_answers_each_profile_as_the_table_says(
    operation: str, settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    rule = OPERATIONS[operation]
    async with serve(settings, engine) as served:
        for name, held in PROFILES.items():
            async with served.connect(TRANSPORT_WS) as socket:
                assert (await socket.init(world.tokens[name]))["type"] == "connection_ack"
                # when
                await socket.subscribe(SUBSCRIPTIONS[operation], world.variables(name))
                # then
                if operation == "contactStatusChanged" and rule.allows(held):
                    await served.subscribed()
                    await socket.stop()
                    await served.subscribed(0)
                    continue
                answer = await socket.receive()
                assert answer["type"] == "error", (name, answer)
                code = answer["payload"][0]["extensions"]["code"]
                assert code == ("NOT_FOUND" if rule.allows(held) else "FORBIDDEN"), (name, answer)


async def test_import_contacts_answers_each_profile_as_the_table_says(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    rule = OPERATIONS["importContacts"]
    for name, held in PROFILES.items():
        # when
        response = await upload(api.client, world.tokens[name], IMPORT_FILE, import_options(library))
        # then
        body = response.json()
        assert refused_in(body) is not rule.allows(held), (name, body)
        if rule.allows(held):
            await finished(api, world.tokens[name], body["data"]["importContacts"]["job"]["id"])


async def test_create_workspace_takes_the_admin_key_and_no_agent_token(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    world = await make_world(api, workspace, library)
    document = 'mutation { createWorkspace(name: "Other") { adminToken userErrors { code } } }'
    for name in PROFILES:
        # when
        body = (await api.post(document, None, world.tokens[name])).json()
        # then
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (
            name,
            body,
        )
