# Imported target for standalone (non-Boost) Asio, header-only.
if(TARGET Asio::asio)
  return()
endif()

find_package(asio CONFIG QUIET) # Conan's CMakeDeps, if it is in use
if(TARGET asio::asio)
  add_library(Asio::asio INTERFACE IMPORTED)
  set_target_properties(Asio::asio PROPERTIES
    INTERFACE_LINK_LIBRARIES asio::asio
    INTERFACE_COMPILE_DEFINITIONS ASIO_STANDALONE)
  return()
endif()

find_path(ASIO_INCLUDE_DIR asio.hpp)
if(NOT ASIO_INCLUDE_DIR)
  message(FATAL_ERROR "standalone Asio not found: install libasio-dev "
                      "(scripts/deps does) or use conan/")
endif()

find_package(Threads REQUIRED)

add_library(Asio::asio INTERFACE IMPORTED)
set_target_properties(Asio::asio PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${ASIO_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS ASIO_STANDALONE
  INTERFACE_LINK_LIBRARIES Threads::Threads)
