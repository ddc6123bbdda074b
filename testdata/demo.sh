#!/bin/sh
# The `make demo` tour, run against a plcsim at $ADDR with the plcctl at $PLCCTL.
set -e
p() { echo "\$ plcctl $*"; "$PLCCTL" -a "$ADDR" "$@"; echo; }
p write-register 100 1234
p read-holding-registers 100 2
p write-coils 0 1 0 1 1
p read-coils 0 4
p write-registers --type float32 200 3.14159
p read-holding-registers --type float32 200
p read-holding-registers --type hex 200 2
p --output json read-holding-registers --type float32 200
p --output csv read-coils 0 4
p read-device-id
p --trace read-input-registers 0 2
p ping --count 5 --rate 10
p watch --interval 500ms --count 4 read-holding-registers 100 2
echo "\$ plcctl write-register 70000 1   # an out-of-range address: refused before anything is sent"
"$PLCCTL" -a "$ADDR" write-register 70000 1 || echo "(exit $?)"
echo
echo "\$ plcctl read-holding-registers 995 10   # past the simulator's 1000 registers: the PLC answers an exception"
"$PLCCTL" -a "$ADDR" read-holding-registers 995 10 || echo "(exit $?)"
