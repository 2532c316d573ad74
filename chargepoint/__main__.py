import sys

from chargepoint.app.cli import main

sys.exit(main())
