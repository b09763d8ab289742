// A problem with the site itself (a bad file name, a conflict, a bad rule): the CLI prints the
// message, which names the files or rules involved, and exits 2.

export class SiteError extends Error {}
