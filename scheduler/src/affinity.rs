//! A thread's CPU affinity mask, saved and given back: the blocking pool's threads start on
//! demand, mostly from workers, and a thread starts with the mask of the thread that starts it.
//! With pinned workers that would confine them to the core of the worker that started them.

/// A saved affinity mask (Linux and Android; elsewhere there is none to save).
#[derive(Clone, Copy)]
pub(crate) struct Mask {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    set: libc::cpu_set_t,
}

impl Mask {
    /// The calling thread's mask, if the OS tells it.
    pub(crate) fn current() -> Option<Mask> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid value.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed; pid 0 is the
            // calling thread.
            let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
            (r == 0).then_some(Mask { set })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        None
    }

    /// Gives the calling thread this mask; false if the OS refuses.
    pub(crate) fn apply(&self) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // SAFETY: `self.set` is a valid `cpu_set_t` of the size passed; pid 0 is the calling
            // thread.
            unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&self.set), &self.set) == 0 }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        false
    }
}
