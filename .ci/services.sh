#!/usr/bin/env bash
# Starts the services the tests use (idempotent): nothing yet beyond installed packages.
set -euo pipefail
