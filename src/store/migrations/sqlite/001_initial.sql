CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    user_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT,
    last_used TEXT
);
CREATE INDEX scim_tokens_org ON scim_tokens(org_id);

CREATE TABLE users (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    user_name_key TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT,
    display_name_key TEXT,
    active INTEGER NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE UNIQUE INDEX users_org_user_name ON users(org_id, user_name_key);
CREATE INDEX users_org_seq ON users(org_id, seq);
CREATE INDEX users_org_external_id ON users(org_id, external_id);
CREATE INDEX users_org_display_name ON users(org_id, display_name_key);

CREATE TABLE user_emails (
    user_seq INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    value_key TEXT,
    type_key TEXT,
    is_primary INTEGER NOT NULL
);
CREATE INDEX user_emails_org_value ON user_emails(org_id, value_key);
CREATE INDEX user_emails_user ON user_emails(user_seq);
