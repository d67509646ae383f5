# Local Conan 2 recipe for CAF 0.17.6. ConanCenter's current caf recipe only
# handles the CMake options of CAF 0.18 and later. See conan/conanfile.py.

import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, get, replace_in_file, rmdir

required_conan_version = ">=2.0"


class CafConan(ConanFile):
    name = "caf"
    description = "C++ Actor Framework, 0.17 series"
    license = "BSD-3-Clause", "BSL-1.0"
    homepage = "https://github.com/actor-framework/actor-framework"
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": False, "fPIC": True}

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def validate(self):
        if self.settings.os == "Windows":
            raise ConanInvalidConfiguration(
                "CAF 0.17 needs patches on Windows that this recipe lacks")

    def layout(self):
        cmake_layout(self, src_folder="src")

    def source(self):
        get(self, **self.conan_data["sources"][self.version], strip_root=True)
        # Newer compilers no longer pull these standard headers in through
        # others: <limits> since GCC 11 (Debian's 0.17.6 has the same fix),
        # <cstdint> since GCC 13.
        for header, anchor, missing in [
            ("libcaf_io/caf/io/network/receive_buffer.hpp",
             "#include <cstring>\n", "#include <limits>\n"),
            ("libcaf_core/caf/detail/ripemd_160.hpp",
             "#include <array>\n", "#include <cstdint>\n"),
        ]:
            replace_in_file(self, os.path.join(self.source_folder, header),
                            anchor, anchor + missing)

    def generate(self):
        tc = CMakeToolchain(self)
        # Cache variables (-D), not plain ones: CAF 0.17's CMake is older than
        # policy CMP0077, so option() would ignore plain variables.
        static = not self.options.shared
        tc.cache_variables.update({
            "CAF_BUILD_STATIC": static,
            "CAF_BUILD_STATIC_ONLY": static,
            "CAF_NO_EXAMPLES": True,
            "CAF_NO_TOOLS": True,
            "CAF_NO_UNIT_TESTS": True,
            "CAF_NO_OPENSSL": True,
            "CAF_NO_PYTHON": True,
            # Keep the profile's C++ library: with clang, CAF 0.17 would add
            # -stdlib=libc++ on its own.
            "CAF_NO_AUTO_LIBCPP": True,
            # CMake 4 refuses cmake_minimum_required() below 3.5 without this.
            "CMAKE_POLICY_VERSION_MINIMUM": "3.5",
        })
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE*", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        # Consumers get the CMake config files that CMakeDeps generates.
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "CAF")
        # CAF 0.17 names its static libraries libcaf_*_static.
        suffix = "" if self.options.shared else "_static"

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "CAF::core")
        core.libs = ["caf_core" + suffix]

        io = self.cpp_info.components["io"]
        io.set_property("cmake_target_name", "CAF::io")
        io.libs = ["caf_io" + suffix]
        io.requires = ["core"]

        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]  # the scheduler's worker threads
            io.system_libs = ["pthread"]
