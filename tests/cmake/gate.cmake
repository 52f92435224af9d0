# Included by a test project that check_*.sh builds twice at once: the target `gate`, on which the
# two builds meet before their locked steps (set add_dependencies(<target> gate) on those). One
# tree writes a line into GATE_FIFO, the other reads it; neither goes on before both are there.
set(GATE_FIFO "" CACHE FILEPATH "FIFO on which the two builds meet")
set(GATE_ROLE "write" CACHE STRING "This build's side of GATE_FIFO: write or read")
if(GATE_ROLE STREQUAL "write")
  set(gate sh -c [[echo go >"$1"]] gate "${GATE_FIFO}")
else()
  set(gate sh -c [[read -r line <"$1"]] gate "${GATE_FIFO}")
endif()
add_custom_target(gate COMMAND timeout 60 ${gate} VERBATIM)
