fn main() -> std::process::ExitCode {
    cognate::cli::main_with_args(std::env::args_os())
}
