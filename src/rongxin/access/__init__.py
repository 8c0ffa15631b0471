"""Who may do what: principals, credentials and (issue: access) the policy decision point."""
