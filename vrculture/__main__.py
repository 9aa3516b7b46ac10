import sys

from vrculture.cli import main

sys.exit(main())
