"""The curator studio at /studio/: accounts, sessions, exhibitions edited in the browser,
resumable uploads and the conversion queue."""
