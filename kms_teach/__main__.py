"""Allow ``python -m kms_teach ...`` as a synonym of ``kms-teach ...``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
