#!/usr/bin/env python3
"""Runs one unittest module for ctest, honest about skips.

  run_module.py MODULE

Exit status: 0 when every test that ran passed, 1 on a failure or error,
77 (ctest's SKIP_RETURN_CODE for these tests) when nothing ran because
every test was skipped. Each skipped test and its reason is printed, and
appended to $CADRE_SKIP_LOG when set, so scripts/test can list them all at
the end of a run: a skip is never counted as a pass without being shown.
"""

import os
import sys
import unittest

SKIP_RETURN_CODE = 77


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: run_module.py MODULE\n")
        return 2
    module = argv[1]
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    skipped = ["%s: %s" % (test.id(), reason) for test, reason in result.skipped]
    for line in skipped:
        print("SKIPPED " + line)
    log = os.environ.get("CADRE_SKIP_LOG")
    if log and skipped:
        with open(log, "a") as f:
            f.write("".join(line + "\n" for line in skipped))
    if not result.wasSuccessful():
        return 1
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        return SKIP_RETURN_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
