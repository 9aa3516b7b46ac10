"""The curator studio at /studio/: accounts, sessions, exhibitions edited in the browser."""
