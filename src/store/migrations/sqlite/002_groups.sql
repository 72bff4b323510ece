-- SCIM Groups (the table is scim_groups: GROUPS is a keyword of both dialects). Members are
-- rows of their own, one per (group, member), so that a change of membership costs what it
-- changes, never the size of the group.
CREATE TABLE scim_groups (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    external_id TEXT,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_org_display_name ON scim_groups(org_id, display_name_key);
CREATE INDEX groups_org_seq ON scim_groups(org_id, seq);
CREATE INDEX groups_org_external_id ON scim_groups(org_id, external_id);

-- member_type is 'User' or 'Group'. A member row goes with its group (the foreign key) and
-- with its member (deleted in the member's delete).
CREATE TABLE group_members (
    group_seq INTEGER NOT NULL REFERENCES scim_groups(seq) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    PRIMARY KEY (group_seq, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members(org_id, member_id);
