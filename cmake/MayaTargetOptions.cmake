# Compile options shared by maya's own targets (never set globally, so a parent project that
# includes maya with add_subdirectory keeps its own flags).
function(maya_target_options target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    # Host-compiler flags only: nvcc (the CUDA backend's .cu files) takes its own.
    set(cxx "$<COMPILE_LANGUAGE:CXX>")
    target_compile_options(${target} PRIVATE "$<${cxx}:-Wall;-Wextra;-Wpedantic;-Wshadow>"
                           "$<${cxx}:-Wnon-virtual-dtor;-Wconversion;-Wno-sign-conversion>")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # GCC 12 reports false -Wrestrict positives inside std::string concatenation at -O3.
      target_compile_options(${target} PRIVATE $<${cxx}:-Wno-restrict>)
    endif()
    # sqrt then compiles to one instruction that vectorizes (errno is never read in maya).
    target_compile_options(${target} PRIVATE $<${cxx}:-fno-math-errno>)
    if(MAYA_WERROR)
      target_compile_options(${target} PRIVATE $<${cxx}:-Werror>)
    endif()
    if(MAYA_NATIVE)
      target_compile_options(${target} PRIVATE $<${cxx}:-march=native>)
    endif()
    if(MAYA_SANITIZE)
      target_compile_options(
        ${target} PRIVATE
        "$<${cxx}:-fsanitize=${MAYA_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
      target_link_options(${target} PRIVATE -fsanitize=${MAYA_SANITIZE})
    endif()
  endif()
endfunction()
