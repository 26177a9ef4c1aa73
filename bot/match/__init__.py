"""Topic matching: the rule language (query), rule files (rules), classifier and the decision."""
