-- Which IdP manages an account ("scim_token:<id>"), once one does: accounts that invitations,
-- sign-ups or the command line made are unmanaged until an IdP adopts them.
ALTER TABLE users ADD COLUMN managed_by TEXT;
