#!/bin/sh
# The `make demo` tour, run against a plcsim at $ADDR with the plcctl at $PLCCTL.
set -e
p() { echo "\$ plcctl $*"; "$PLCCTL" -a "$ADDR" "$@"; echo; }
if [ ! -x "$PLCCTL" ]; then
	echo "(plcctl not built yet: $PLCCTL)"; exit 0
fi
p write-register 100 1234
p read-holding-registers 100 1
p write-coils 0 1 0 1 1
p read-coils 0 4
p write-registers --type float32 200 3.14159
p read-holding-registers --type float32 200 1
p read-holding-registers --type float32 --word-order CDAB --output json 200 1
p read-device-id
p watch --interval 500ms --count 4 read-holding-registers 100 2
