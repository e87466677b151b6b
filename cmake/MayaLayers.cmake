# The layers of maya, bottom up: the one statement of the architecture's order. A layer may include
# its own headers and those of the layers before it; layers in one entry ("contact;fem" written
# "contact,fem") are siblings and may not include each other. tests/layering checks every public
# and private include against this list; docs/architecture.md explains it. The engine (core to io)
# is the library maya::maya; tasks and viz are libraries of their own above it (src/CMakeLists.txt).
set(MAYA_LAYER_ORDER core ad tensor dynamics optim rigid "contact,fem" multibody io tasks viz)
