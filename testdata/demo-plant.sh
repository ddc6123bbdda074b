#!/bin/sh
# The plant part of the `make demo` tour: plcsim at $ADDR serves the pump
# station of $PLANT (testdata/plants/pump-station.yaml), and plcctl speaks
# its tags by name.
set -e
export PLCCTL_PLANT="$PLANT"
p() { echo "\$ plcctl $*"; "$PLCCTL" -a "$ADDR" "$@"; echo; }
p tags 'pump1.*' 'tank*'
p get tank1.level tank2.level flow setpoint pressure.limit mode.auto station.name
p set pressure.limit 7.5
p set pump1.cmd on
p watch --interval 250ms --count 4 pump1.cmd pump1.run tank1.level flow strokes
p --output json get setpoint pump1.run
echo "\$ plcctl set tank1.level 2   # a read-only tag: refused before anything is sent"
"$PLCCTL" -a "$ADDR" set tank1.level 2 || echo "(exit $?)"
echo
echo "\$ plcctl set pressure.limit 4000   # out of range for an int16 with scale 0.1"
"$PLCCTL" -a "$ADDR" set pressure.limit 4000 || echo "(exit $?)"
