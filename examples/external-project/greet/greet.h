#pragma once
inline const char* greeting() {
  return "hello from the shared prefix";
}
