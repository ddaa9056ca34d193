"""Web plumbing shared by blueprints: headers, input guard, org scoping, static files, templating."""
