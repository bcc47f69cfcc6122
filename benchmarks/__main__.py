"""``python -m benchmarks``: see :mod:`benchmarks.bench`; ``python -m benchmarks room``: see
:mod:`benchmarks.room`."""

import sys

if sys.argv[1:2] == ["room"]:
    from benchmarks.room import main as room_main

    sys.exit(room_main(sys.argv[2:]))

from benchmarks.bench import main

sys.exit(main())
