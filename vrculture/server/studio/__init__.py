"""The curator studio: authoring exhibitions in the browser (issue 12)."""
