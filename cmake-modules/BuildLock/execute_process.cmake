# buildlock_execute_process(): configure-time commands under a lock (BuildLock.cmake).

# Every keyword of execute_process() (CMake 3.25 up to now). execute_process() takes any argument
# that equals one of these as its own keyword, however it is quoted: a command argument such as
# TIMEOUT would set a time limit and vanish from the command. (A global property: a variable set
# here would not reach the directories that call the function.)
set_property(GLOBAL PROPERTY _BUILDLOCK_EXECUTE_PROCESS_KEYWORDS COMMAND WORKING_DIRECTORY TIMEOUT
  RESULT_VARIABLE RESULTS_VARIABLE OUTPUT_VARIABLE ERROR_VARIABLE INPUT_FILE OUTPUT_FILE ERROR_FILE
  OUTPUT_QUIET ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE ENCODING
  ECHO_OUTPUT_VARIABLE ECHO_ERROR_VARIABLE COMMAND_ECHO COMMAND_ERROR_IS_FATAL)

# Sets <out_var> to <word> as a quoted CMake argument that evaluates to <word> exactly: no
# variable reference, escape sequence or `;` acts in it. (A bracket argument cannot hold every
# word: one that starts with a line break loses it.)
function(_buildlock_cmake_quote word out_var)
  string(REPLACE "\\" "\\\\" word "${word}")
  string(REPLACE "\"" "\\\"" word "${word}")
  string(REPLACE "$" "\\$" word "${word}")
  set(${out_var} "\"${word}\"" PARENT_SCOPE)
endfunction()

# Appends the command whose words the caller collected (cmake_words: quoted CMake arguments,
# shell_words: the same words for /bin/sh, word_count, keyword: the first word that is a keyword
# of execute_process(), or empty) to the caller's command_text, and its word count to sequence.
# A command with such a word runs as `/bin/sh -c "exec <words>"`: the shell passes every word on
# unchanged, and `exec` keeps its exit status and its signal as buildlock --sequence sees them.
macro(_buildlock_end_command)
  if(keyword STREQUAL "")
    string(APPEND command_text "${cmake_words}")
    list(APPEND sequence ${word_count})
  elseif(_BUILDLOCK_POSIX_SHELL STREQUAL "")
    message(FATAL_ERROR
      "${fn}: the argument \"${keyword}\" is a keyword of execute_process(), which takes it as "
      "its own wherever it stands; without a POSIX shell to pass it on (Windows), put it in a "
      "script that the command reads")
  else()
    _buildlock_cmake_quote("${_BUILDLOCK_POSIX_SHELL}" shell)
    _buildlock_cmake_quote("exec${shell_words}" script)
    string(APPEND command_text " ${shell} \"-c\" ${script}")
    list(APPEND sequence 3)
  endif()
  set(cmake_words "")
  set(shell_words "")
  set(word_count 0)
  set(keyword "")
endmacro()

# Runs the commands now, in order and under one hold of the lock, through execute_process(), and
# stops at the first failure. Without RESULT_VARIABLE a failure (of a command, or of buildlock:
# a timeout, exit status 75) stops configuration.
function(buildlock_execute_process)
  set(fn "buildlock_execute_process")
  set(value_keywords LOCK DIR SLOTS TIMEOUT STALE_AFTER)
  set(flag_keywords SHARED QUIET VERBOSE NO_DIE_WITH_PARENT KEEP_RUNNING_IF_LOST STOP_IF_LOST)
  # These words end the commands; only COMMAND, which starts the next one, is reserved besides.
  set(process_value_keywords RESULT_VARIABLE OUTPUT_VARIABLE ERROR_VARIABLE WORKING_DIRECTORY)
  set(process_flag_keywords OUTPUT_QUIET ERROR_QUIET)
  get_property(execute_process_keywords GLOBAL PROPERTY _BUILDLOCK_EXECUTE_PROCESS_KEYWORDS)
  # The shell that passes such arguments on (_buildlock_end_command()): none on Windows. A test
  # sets _BUILDLOCK_POSIX_SHELL empty to see what happens there.
  if(NOT DEFINED _BUILDLOCK_POSIX_SHELL)
    set(_BUILDLOCK_POSIX_SHELL "")
    if(NOT CMAKE_HOST_WIN32)
      set(_BUILDLOCK_POSIX_SHELL "/bin/sh")
    endif()
  endif()

  # ARGV<n> one by one, as buildlock_wrap() does, so that empty arguments and `;` survive. Each
  # word of a command is written as a quoted argument of the execute_process() call run below by
  # cmake_language(EVAL), and for /bin/sh in case the command needs the shell.
  set(options_words "")
  set(process_words "")
  set(command_text "")
  set(sequence "")
  set(in_commands FALSE)
  set(cmake_words "")
  set(shell_words "")
  set(word_count 0)
  set(keyword "")
  set(index 0)
  while(index LESS ARGC)
    set(word "${ARGV${index}}")
    math(EXPR index "${index} + 1")
    if(NOT process_words STREQUAL "")
      list(APPEND process_words "${word}")
    elseif(word STREQUAL "COMMAND")
      if(in_commands AND word_count EQUAL 0)
        message(FATAL_ERROR "${fn}: COMMAND without a command to run")
      elseif(in_commands)
        _buildlock_end_command()
      endif()
      set(in_commands TRUE)
    elseif(NOT in_commands)
      list(APPEND options_words "${word}")
    elseif(word IN_LIST process_value_keywords OR word IN_LIST process_flag_keywords)
      list(APPEND process_words "${word}")
    else()
      _buildlock_cmake_quote("${word}" quoted)
      string(APPEND cmake_words " ${quoted}")
      _buildlock_shell_quote("${word}" quoted)
      string(APPEND shell_words " ${quoted}")
      math(EXPR word_count "${word_count} + 1")
      if(keyword STREQUAL "" AND word IN_LIST execute_process_keywords)
        set(keyword "${word}")
      endif()
    endif()
  endwhile()
  if(NOT in_commands)
    message(FATAL_ERROR "${fn}: missing COMMAND <cmd> [<arg>...]")
  elseif(word_count EQUAL 0)
    message(FATAL_ERROR "${fn}: COMMAND without a command to run")
  endif()
  _buildlock_end_command()

  _buildlock_parse_options(${fn} "${options_words}" "${value_keywords}" "${flag_keywords}")
  _buildlock_run_options(${fn} lock_dir options)
  set(process_keywords ${process_value_keywords} ${process_flag_keywords})
  foreach(keyword IN LISTS process_keywords)
    unset(arg_${keyword})
  endforeach()
  cmake_parse_arguments(arg "${process_flag_keywords}" "${process_value_keywords}" ""
    ${process_words})
  if(DEFINED arg_UNPARSED_ARGUMENTS OR DEFINED arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR
      "${fn}: after the commands, only RESULT_VARIABLE, OUTPUT_VARIABLE, ERROR_VARIABLE, "
      "WORKING_DIRECTORY (each with a value), OUTPUT_QUIET and ERROR_QUIET")
  endif()
  _buildlock_executable(${fn} CONFIGURE buildlock)

  # buildlock's own words: plain, none of them a keyword of execute_process().
  set(line "${buildlock}" run --dir "${lock_dir}" ${options})
  list(LENGTH sequence command_count)
  if(command_count GREATER 1)
    list(JOIN sequence "," sequence_text)
    list(APPEND line --sequence "${sequence_text}")
  endif()
  list(APPEND line "${arg_LOCK}" --)
  set(code "execute_process(COMMAND")
  foreach(word IN LISTS line)
    _buildlock_cmake_quote("${word}" quoted)
    string(APPEND code " ${quoted}")
  endforeach()
  string(APPEND code "${command_text} RESULT_VARIABLE result")
  foreach(keyword IN ITEMS OUTPUT_VARIABLE ERROR_VARIABLE)
    if(DEFINED arg_${keyword})
      string(APPEND code " ${keyword} captured_${keyword}")
    endif()
  endforeach()
  if(DEFINED arg_WORKING_DIRECTORY)
    _buildlock_cmake_quote("${arg_WORKING_DIRECTORY}" quoted)
    string(APPEND code " WORKING_DIRECTORY ${quoted}")
  endif()
  foreach(keyword IN LISTS process_flag_keywords)
    if(arg_${keyword})
      string(APPEND code " ${keyword}")
    endif()
  endforeach()
  cmake_language(EVAL CODE "${code})")

  foreach(keyword IN ITEMS OUTPUT_VARIABLE ERROR_VARIABLE)
    if(DEFINED arg_${keyword})
      set(${arg_${keyword}} "${captured_${keyword}}" PARENT_SCOPE)
    endif()
  endforeach()
  if(DEFINED arg_RESULT_VARIABLE)
    set(${arg_RESULT_VARIABLE} "${result}" PARENT_SCOPE)
  elseif(NOT result STREQUAL "0")
    message(FATAL_ERROR
      "${fn}: the commands under lock \"${arg_LOCK}\" in ${lock_dir} failed: ${result}")
  endif()
endfunction()
