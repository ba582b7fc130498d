import { Button } from "@mantine/core";
import { IconMapSearch } from "@tabler/icons-react";
import { Link } from "react-router";

import { Empty } from "../ui/Empty";

export function NotFoundPage() {
  return (
    <section aria-labelledby="notfound-title">
      <h1 id="notfound-title" className="fd-visually-hidden">
        Page not found
      </h1>
      <Empty
        icon={<IconMapSearch size={28} />}
        title="There is no page here"
        description="The address may be mistyped, or what it showed was removed."
        actions={
          <Button component={Link} to="/workflows">
            Go to the workflows
          </Button>
        }
      />
    </section>
  );
}
