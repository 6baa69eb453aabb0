#include "drivers/test/driver_state.hpp"
