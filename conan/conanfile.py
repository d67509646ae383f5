# Dependencies through Conan 2, for building chat-node off Debian.
#
# Debian's packages are the supported way to get the dependencies (libcaf-dev,
# libwebsocketpp-dev, libasio-dev, catch2; scripts/deps installs them). This
# file is for other systems only. CI does not run it, so it can go stale.
#
# Usage, from the repository root:
#   conan create conan/recipes/caf --version 0.17.6   # once per machine
#   conan install conan --output-folder=build --build=missing
#   cmake -B build -DCMAKE_TOOLCHAIN_FILE=build/conan_toolchain.cmake \
#         -DCMAKE_BUILD_TYPE=Release   # must match the profile's build_type
#   cmake --build build
#
# CMakeDeps makes find_package() work for: CAF (targets CAF::core, CAF::io),
# websocketpp (websocketpp::websocketpp), asio (asio::asio) and Catch2
# (Catch2::Catch2).

from conan import ConanFile
from conan.tools.cmake import cmake_layout


class ChatNodeConan(ConanFile):
    settings = "os", "compiler", "build_type", "arch"
    generators = "CMakeDeps", "CMakeToolchain"
    default_options = {
        # By default, ConanCenter's websocketpp recipe pulls in Boost.Asio.
        "websocketpp/*:asio": "standalone",
    }

    def requirements(self):
        self.requires("caf/0.17.6")  # the local recipe in recipes/caf
        self.requires("websocketpp/0.8.2")
        # websocketpp's recipe asks for a newer asio. force keeps the version
        # that Debian has and that this code is built against.
        self.requires("asio/1.22.1", force=True)

    def build_requirements(self):
        self.test_requires("catch2/2.13.10")

    def layout(self):
        cmake_layout(self)
        # Write conan_toolchain.cmake and the CMakeDeps files straight into
        # --output-folder (build/) instead of build/build/<type>/generators.
        self.folders.generators = ""
