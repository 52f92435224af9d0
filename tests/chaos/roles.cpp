#include "roles.h"

namespace buildlock::chaos {

Role choose_role(const Options& options, Variant variant, std::mt19937_64& random) {
  switch (variant) {
  case Variant::exclusive:
    return {"exclusive", {}};
  case Variant::shared:
    if (std::uniform_int_distribution<int>(0, 99)(random) < options.writer_percent) {
      return {"exclusive", {}};
    }
    return {"reader", {"--shared"}};
  case Variant::slotted:
    return {"slot", {"--slots", std::to_string(options.slots)}};
  }
  return {};
}

} // namespace buildlock::chaos
