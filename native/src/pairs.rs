//! The sync/async pairs of the napi face, declared once.
//!
//! Every CPU-heavy kernel has two JS forms: the sync one runs on the calling thread over borrowed
//! `&[u8]` views (for small inputs), the async one is an `AsyncTask` on the libuv pool that holds the
//! caller's Buffers (no copy) until it settles. `sync_and_async!` writes both from one declaration,
//! and `pool_task!` writes the task of a class method (whose async form needs the class's claim).

/// Declares a kernel's two napi functions and the task of the async one from one body.
///
/// ```ignore
/// sync_and_async! {
///     /// Doc comment of the sync form (the async one gets its own line).
///     fn encode_block / encode_block_async via EncodeTask (
///         block: &[u8] | Buffer,      // sync type | type the async task holds
///         data: u32,                  // no `|`: the argument is seen by the `let` lines only
///         parity: u32,
///         out: BufferSlice | Buffer,
///     ) -> u32 {
///         let layout: Layout = Layout::new(data, parity)?; // at the call: bad arguments throw there
///         run encode_packed(block, layout, out)? as u32    // the kernel: on the pool when async
///     }
/// }
/// ```
///
/// The `let` values are computed on the JS thread and must be `Copy` (the task keeps them). The `run`
/// expression sees the `let` values and each held argument as `&mut` its sync or held type, which
/// both coerce to the kernel's `&[u8]` / `&mut [u8]` (`slices(shards)` views a shard list), and
/// gives the output type; `-> Output as JsType` converts it with `Into` (both forms), `-> Output`
/// returns it as it is, and `, sync as Type = conv` makes the sync form return `conv(env, output)`.
macro_rules! sync_and_async {
    // Entry: sort the arguments (in order) into the sync signature, the async signature and the held ones.
    (
        $(#[doc = $doc:literal])*
        fn $sync:ident / $async_fn:ident via $task:ident ($($args:tt)*) -> $output:ty $(as $js:ty)?
        $(, sync as $sync_js:ty = $sync_conv:path)? {
            $(let $prep:ident : $prep_ty:ty = $prep_val:expr;)*
            run $body:expr
        }
    ) => {
        sync_and_async!(@args [$($args)* ,] [] [] []
            [$(#[doc = $doc])*] [$sync $async_fn $task] [$output] [$($js,)? $output]
            [$($sync_js = $sync_conv)?] [$($prep: $prep_ty = $prep_val;)*] [$body]);
    };
    // A held argument: `name: SyncType | HeldType`.
    (@args [$arg:ident : $sync_ty:ty | $held_ty:ty, $($rest:tt)*] [$($sp:tt)*] [$($ap:tt)*] [$($held:tt)*] $($tail:tt)*) => {
        sync_and_async!(@args [$($rest)*] [$($sp)* $arg: $sync_ty,] [$($ap)* $arg: $held_ty,] [$($held)* $arg: $held_ty,]
            $($tail)*);
    };
    // A plain argument: `name: Type`, the same in both forms, read by the `let` lines only.
    (@args [$arg:ident : $ty:ty, $($rest:tt)*] [$($sp:tt)*] [$($ap:tt)*] [$($held:tt)*] $($tail:tt)*) => {
        sync_and_async!(@args [$($rest)*] [$($sp)* $arg: $ty,] [$($ap)* $arg: $ty,] [$($held)*] $($tail)*);
    };
    // The trailing comma added by the entry (or written by the caller).
    (@args [$(,)?] $($tail:tt)*) => {
        sync_and_async!(@emit $($tail)*);
    };
    (
        @emit [$($sp:tt)*] [$($ap:tt)*] [$($arg:ident : $held_ty:ty,)*]
        [$(#[doc = $doc:literal])*] [$sync:ident $async_fn:ident $task:ident] [$output:ty] [$js:ty $(, $_output:ty)?]
        [$($sync_override:tt)*] [$($prep:ident : $prep_ty:ty = $prep_val:expr;)*] [$body:expr]
    ) => {
        #[doc = concat!("The task of `", stringify!($async_fn), "`.")]
        pub struct $task {
            $($arg: $held_ty,)*
            $($prep: $prep_ty,)*
        }

        #[napi]
        impl Task for $task {
            type Output = $output;
            type JsValue = $js;

            fn compute(&mut self) -> Result<$output> {
                $(let $arg: &mut $held_ty = &mut self.$arg;)*
                $(let $prep: $prep_ty = self.$prep;)*
                Ok($body)
            }

            #[allow(clippy::useless_conversion)]
            fn resolve(&mut self, _env: Env, output: $output) -> Result<$js> {
                Ok(output.into())
            }
        }

        sync_and_async!(@sync [$($sync_override)*] [$(#[doc = $doc])*] $sync [$($sp)*] [$($arg)*] $output, $js,
            [$($prep: $prep_ty = $prep_val;)*] [$body]);

        #[doc = concat!("`", stringify!($sync), "` on the libuv thread pool (its Buffers must not change until it settles).")]
        #[napi]
        #[allow(clippy::too_many_arguments)]
        pub fn $async_fn($($ap)*) -> Result<AsyncTask<$task>> {
            $(let $prep: $prep_ty = $prep_val;)*
            Ok(AsyncTask::new($task { $($arg,)* $($prep,)* }))
        }
    };
    // The sync form, returning the output converted with `Into`.
    (
        @sync [] [$(#[doc = $doc:literal])*] $sync:ident [$($sp:tt)*] [$($arg:ident)*] $output:ty, $js:ty,
        [$($prep:ident : $prep_ty:ty = $prep_val:expr;)*] [$body:expr]
    ) => {
        $(#[doc = $doc])*
        #[napi]
        #[allow(clippy::useless_conversion, clippy::too_many_arguments)]
        pub fn $sync($($sp)*) -> Result<$js> {
            $(let $prep: $prep_ty = $prep_val;)*
            $(let mut $arg = $arg; let $arg = &mut $arg;)*
            let output: $output = $body;
            Ok(output.into())
        }
    };
    // The sync form, returning what `conv(env, output)` makes (a V8-owned copy of a small digest).
    (
        @sync [$sync_js:ty = $conv:path] [$(#[doc = $doc:literal])*] $sync:ident [$($sp:tt)*] [$($arg:ident)*]
        $output:ty, $js:ty, [$($prep:ident : $prep_ty:ty = $prep_val:expr;)*] [$body:expr]
    ) => {
        $(#[doc = $doc])*
        #[napi]
        pub fn $sync<'env>(env: &'env Env, $($sp)*) -> Result<$sync_js> {
            $(let $prep: $prep_ty = $prep_val;)*
            $(let mut $arg = $arg; let $arg = &mut $arg;)*
            let output: $output = $body;
            $conv(env, output)
        }
    };
}

/// The task of a class method's async form: the fields it holds (the class's claim, the caller's
/// Buffers) and the work done on the pool; the method itself is written in the class.
macro_rules! pool_task {
    (
        $(#[doc = $doc:literal])*
        $task:ident { $($field:ident : $ty:ty),* $(,)? } -> $output:ty => |$t:ident| $body:expr
    ) => {
        $(#[doc = $doc])*
        pub struct $task {
            $($field: $ty,)*
        }

        #[napi]
        impl Task for $task {
            type Output = $output;
            type JsValue = $output;

            fn compute(&mut self) -> Result<$output> {
                let $t = self;
                $body
            }

            fn resolve(&mut self, _env: Env, output: $output) -> Result<$output> {
                Ok(output)
            }
        }
    };
}
