import type { CallOptions } from "@connectrpc/connect";

/** The element type of a List response's one repeated field (`Device` for ListDevicesResponse). */
export type PageItem<Response> = {
  [K in keyof Response]-?: K extends `$${string}`
    ? never
    : Response[K] extends readonly (infer Item)[]
      ? Item
      : never;
}[keyof Response];

/**
 * Yields the items of every page of a List call, following `next_page_token` until a page
 * answers none: `for await (const device of paginate(client.devices.listDevices, { userId }))`.
 * The request's own `pageToken` is where it starts; its `pageSize` is each page's.
 */
export async function* paginate<
  Request extends { pageToken?: string },
  Response extends { nextPageToken: string },
>(
  call: (request: Request, options?: CallOptions) => Promise<Response>,
  request: Request,
  options?: CallOptions,
): AsyncGenerator<PageItem<Response>, void, undefined> {
  let pageToken = request.pageToken ?? "";
  do {
    const page = await call({ ...request, pageToken }, options);
    yield* itemsOf(page);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
}

function itemsOf<Response extends object>(page: Response): PageItem<Response>[] {
  const lists = Object.entries(page).filter(([name, value]) => !name.startsWith("$") && Array.isArray(value));
  if (lists.length !== 1) {
    throw new TypeError(`a page must hold exactly one list of items; this one holds ${lists.length}`);
  }
  return lists[0]![1] as PageItem<Response>[];
}
