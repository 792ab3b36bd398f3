// The GPU tests' helpers are the shared ones.
#pragma once

#include "common/test_util.hpp"
