-- Sites, grants, group role bindings, naming rules, API keys and the audit trail (DESIGN §1).
CREATE TABLE sites (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    url TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX sites_org_name ON sites(org_id, name_key);

-- site_id is '' for the organization scope. Grants of source scim_group are not stored: they
-- are read from the account's groups and the groups' bindings, so that a change of
-- membership or binding changes access in its own transaction.
CREATE TABLE grants (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    role TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    expires TEXT,
    created TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX grants_unique ON grants(org_id, user_id, site_id, source, source_ref);
CREATE INDEX grants_site ON grants(org_id, site_id);
CREATE INDEX grants_expires ON grants(org_id, expires);

-- A group's role at the organization (site_id '') or at a site; origin 'manual' (set by an
-- admin) or 'rule:<rule id>' (derived from a naming rule).
CREATE TABLE group_roles (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    role TEXT NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (group_id, site_id, origin)
);
CREATE INDEX group_roles_org ON group_roles(org_id, site_id);

-- role and site are fixed values or "$N", the regular expression's N-th capture; site ''
-- binds at the organization.
CREATE TABLE naming_rules (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    pattern TEXT NOT NULL,
    role TEXT NOT NULL,
    site TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX naming_rules_org ON naming_rules(org_id, seq);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT,
    last_used TEXT
);
CREATE INDEX api_keys_org ON api_keys(org_id, user_id);

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT,
    request_id TEXT NOT NULL
);
-- One index, in time order: every account write adds a row, and an index on the (random)
-- target would cost a scattered page write each time on SQLite's one writer. Queries by
-- target read the organization's rows in their time range.
CREATE INDEX audit_events_org_at ON audit_events(org_id, at);
